/*
 * The consumers of the share-group benchmark (bench/share.ts builds it against librdkafka 2.15, whose
 * share consumer is a preview C API, into a temporary directory; the binary is never committed).
 * One consumer per process, in one of two modes:
 *
 *   queue-consumer -m share   -b BROKERS -g GROUP -t TOPIC [-X k=v]...   a share consumer (KIP-932,
 *                  rd_kafka_share_*), implicit acknowledgement (each poll accepts the batch before it)
 *   queue-consumer -m classic -b BROKERS -g GROUP -t TOPIC [-X k=v]...   a consumer group member
 *                  (rd_kafka_consumer_poll, auto.offset.reset=earliest, auto commit)
 *
 * It subscribes at once (a share consumer joins its group in the background), prints
 * {"event":"subscribed"}, then waits for a line on stdin before its first poll, so that the harness can
 * start every member of a group at the same moment once the broker has assigned them all. From then on it
 * counts the records it is given (touching each payload's length), printing {"event":"progress",
 * "records":N} at most every 100 ms when N changed, until its stdin closes; then it closes the consumer
 * (a share consumer sends its last acknowledgements) and prints
 *
 *   {"event":"end","records":N,"bytes":B,"firstMs":T1,"lastMs":T2,"errors":E}
 *
 * T1 and T2 are CLOCK_MONOTONIC milliseconds (one clock for every process of the machine) of the first and
 * the last record; E counts errored messages and poll errors (the first few are printed as
 * {"event":"error","error":"..."}). Exit status 1 with {"event":"fatal","error":"..."} on a setup failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static long long records, bytes;
static double first_ms = -1, last_ms = -1;
static int errors;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void fatal(const char *what, const char *detail) {
  printf("{\"event\":\"fatal\",\"error\":\"%s: %s\"}\n", what, detail);
  fflush(stdout);
  exit(1);
}

static void error(const char *text) {
  if (errors++ < 5) printf("{\"event\":\"error\",\"error\":\"%s\"}\n", text);
}

static void count(const rd_kafka_message_t *m) {
  if (m->err) {
    error(rd_kafka_err2name(m->err));
    return;
  }
  double t = now_ms();
  if (first_ms < 0) first_ms = t;
  last_ms = t;
  records++;
  bytes += (long long)m->len;
}

/* 1 while stdin is open (a line or nothing to read yet), 0 once it has closed. */
static int stdin_open(int wait_ms) {
  struct pollfd p = {.fd = 0, .events = POLLIN};
  if (poll(&p, 1, wait_ms) <= 0) return 1;
  char buf[256];
  ssize_t n = read(0, buf, sizeof buf);
  return n > 0 || (n < 0 && errno == EINTR);
}

static void progress(double *next, long long *reported) {
  double t = now_ms();
  if (t < *next || records == *reported) return;
  printf("{\"event\":\"progress\",\"records\":%lld}\n", records);
  fflush(stdout);
  *reported = records;
  *next = t + 100;
}

static void wait_for_go(void) {
  printf("{\"event\":\"subscribed\"}\n");
  fflush(stdout);
  char buf[256];
  if (read(0, buf, sizeof buf) <= 0) fatal("stdin", "closed before the start line");
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) fatal(name, errstr);
}

static rd_kafka_topic_partition_list_t *subscription(const char *topic) {
  rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
  return subs;
}

static void run_share(rd_kafka_conf_t *conf, const char *topic) {
  char errstr[512];
  set(conf, "share.acknowledgement.mode", "implicit");
  rd_kafka_share_t *rk = rd_kafka_share_consumer_new(conf, errstr, sizeof errstr);
  if (!rk) fatal("rd_kafka_share_consumer_new", errstr);
  rd_kafka_topic_partition_list_t *subs = subscription(topic);
  rd_kafka_resp_err_t err = rd_kafka_share_subscribe(rk, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (err) fatal("rd_kafka_share_subscribe", rd_kafka_err2str(err));
  wait_for_go();
  double next = 0;
  long long reported = 0;
  while (stdin_open(0)) {
    rd_kafka_messages_t *batch = NULL;
    rd_kafka_error_t *e = rd_kafka_share_poll(rk, 100, &batch);
    if (e) {
      error(rd_kafka_error_name(e));
      rd_kafka_error_destroy(e);
    }
    if (batch) {
      size_t n = rd_kafka_messages_count(batch);
      for (size_t i = 0; i < n; i++) count(rd_kafka_messages_get(batch, i));
      rd_kafka_messages_destroy(batch);
    }
    progress(&next, &reported);
  }
  rd_kafka_error_t *e = rd_kafka_share_consumer_close(rk);
  if (e) {
    error(rd_kafka_error_name(e));
    rd_kafka_error_destroy(e);
  }
  rd_kafka_share_destroy(rk);
}

static void run_classic(rd_kafka_conf_t *conf, const char *topic) {
  char errstr[512];
  set(conf, "auto.offset.reset", "earliest");
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!rk) fatal("rd_kafka_new", errstr);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t *subs = subscription(topic);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (err) fatal("rd_kafka_subscribe", rd_kafka_err2str(err));
  wait_for_go();
  double next = 0;
  long long reported = 0;
  while (stdin_open(0)) {
    /* a poll per record, as an application does; the check of stdin every 1000 */
    for (int i = 0; i < 1000; i++) {
      rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
      if (!m) break;
      count(m);
      rd_kafka_message_destroy(m);
    }
    progress(&next, &reported);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

int main(int argc, char **argv) {
  const char *mode = NULL, *brokers = NULL, *group = NULL, *topic = NULL;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  int opt;
  while ((opt = getopt(argc, argv, "m:b:g:t:X:")) != -1) {
    switch (opt) {
    case 'm': mode = optarg; break;
    case 'b': brokers = optarg; break;
    case 'g': group = optarg; break;
    case 't': topic = optarg; break;
    case 'X': {
      char *eq = strchr(optarg, '=');
      if (!eq) fatal("-X needs name=value", optarg);
      *eq = '\0';
      set(conf, optarg, eq + 1);
      break;
    }
    default: fatal("usage", "queue-consumer -m share|classic -b BROKERS -g GROUP -t TOPIC [-X k=v]...");
    }
  }
  if (!mode || !brokers || !group || !topic) fatal("usage", "-m, -b, -g and -t are required");
  set(conf, "bootstrap.servers", brokers);
  set(conf, "group.id", group);
  if (strcmp(mode, "share") == 0) run_share(conf, topic);
  else if (strcmp(mode, "classic") == 0) run_classic(conf, topic);
  else fatal("unknown mode", mode);
  printf("{\"event\":\"end\",\"records\":%lld,\"bytes\":%lld,\"firstMs\":%.3f,\"lastMs\":%.3f,\"errors\":%d}\n", records, bytes, first_ms, last_ms, errors);
  fflush(stdout);
  return 0;
}
