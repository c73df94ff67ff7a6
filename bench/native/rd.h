/*
 * Stand-in for librdkafka's internal src/rd.h, just what examples/rdkafka_performance.c uses
 * (the Debian package ships the example, not the internal headers). Gregor's bench builds the
 * example with this header into a temporary directory (bench/native-build.ts).
 */
#ifndef GREGOR_RD_H
#define GREGOR_RD_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define RD_UNUSED __attribute__((unused))
#define RD_MAX(a, b) ((a) > (b) ? (a) : (b))
#define RD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define rd_snprintf(...) snprintf(__VA_ARGS__)

#endif
