/*
 * Gregor's native load generator (bench/run.ts builds it into a temporary directory at bench time; the
 * binary is never committed). One program, one mode per run, results as JSON lines on stdout:
 *   {"event":"start"}       the measured window begins (the harness samples the broker's CPU time)
 *   {"event":"end", ...}    the window ended: counts, seconds, and the mode's figures
 *
 *   loadgen create   -b BROKERS -T topic:partitions ...        create topics (admin API), then exit
 *   loadgen produce  -b BROKERS -t TOPIC -s SIZE -a ACKS -w WARMUP_S -d DURATION_S [-n MAX_MSGS] [-X k=v]
 *   loadgen consume  -b BROKERS -t TOPIC -P PARTITIONS -w -d [-L] [-X k=v]   (assign from the beginning;
 *                    -L: when every partition has been read to its end, start again from the beginning,
 *                    with fetch.wait.max.ms 10 so that the fetch waiting at the end does not hold the next
 *                    pass; the end offsets are queried at the start: the log must not grow meanwhile)
 *   loadgen group    -b BROKERS -t TOPIC -g GROUP -w -d [-X k=v]             (subscribe, earliest, until caught up)
 *   loadgen latency  -b BROKERS -t TOPIC -r RATE -s SIZE -a ACKS -w -d [-X k=v]  (producer at a fixed rate and a
 *                    consumer of the same partition in one process: send-to-receive latency percentiles)
 *   loadgen mock     -T topic:partitions ...     librdkafka's in-process mock cluster (rd_kafka_mock_cluster_new):
 *                    prints {"event":"mock","bootstraps":...}, serves until stdin closes
 *   loadgen sink     -b HOST:PORT -w -d          writes 256 KiB blocks to a socket as fast as it takes them
 *   loadgen source   -b HOST:PORT -w -d          reads a socket as fast as it delivers
 *   loadgen diskwrite -f FILE -m MIB             sequential 1 MiB writes, then one fdatasync
 *   loadgen fsyncrate -f FILE -w -d              4 KiB append + fdatasync, repeated
 *   loadgen dropcache FILE...                    drops the files' (clean) pages from the page cache
 *   loadgen diskread -f FILE                     drops the file from the page cache, reads it sequentially
 *   loadgen version                              prints librdkafka's version
 *
 * Windows are time-based: WARMUP_S seconds unmeasured, then DURATION_S seconds measured (consume modes
 * may end early when the data runs out; the figures are over the time actually measured).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_CONF 32
#define MAX_TOPICS 32

static const char *brokers = "127.0.0.1:9092";
static const char *topic = "bench";
static const char *group_id = "bench-group";
static const char *file_path = NULL;
static int msg_size = 1024;
static int acks = 1;
static double warmup_s = 2;
static double duration_s = 10;
static long max_msgs = 0;
static int partitions = 1;
static int loop_mode = 0;
static double rate = 10000;
static long mib = 256;
static const char *conf_kv[MAX_CONF];
static int conf_n = 0;
static const char *topics_spec[MAX_TOPICS];
static int topics_n = 0;
static volatile sig_atomic_t stop_flag = 0;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "loadgen: %s: %s\n", what, detail ? detail : "");
  exit(1);
}

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static void emit_start(void) {
  printf("{\"event\":\"start\"}\n");
  fflush(stdout);
}

static void set_conf(rd_kafka_conf_t *conf, const char *name, const char *value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) die(name, errstr);
}

/* Common client configuration: brokers, quiet logs, then the -X overrides. */
static rd_kafka_conf_t *base_conf(void) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set_conf(conf, "bootstrap.servers", brokers);
  set_conf(conf, "log_level", "3");
  for (int i = 0; i < conf_n; i++) {
    char *kv = strdup(conf_kv[i]);
    char *eq = strchr(kv, '=');
    if (!eq) die("-X expects key=value", kv);
    *eq = '\0';
    set_conf(conf, kv, eq + 1);
    free(kv);
  }
  return conf;
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
  char errstr[512];
  rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (!rk) die("rd_kafka_new", errstr);
  return rk;
}

/* ---------------------------------------------------------------- create */

static int cmd_create(void) {
  rd_kafka_conf_t *conf = base_conf();
  rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, conf);
  rd_kafka_NewTopic_t *nt[MAX_TOPICS];
  char errstr[512];
  for (int i = 0; i < topics_n; i++) {
    char *spec = strdup(topics_spec[i]);
    char *colon = strrchr(spec, ':');
    int parts = colon ? atoi(colon + 1) : 1;
    if (colon) *colon = '\0';
    nt[i] = rd_kafka_NewTopic_new(spec, parts, 1, errstr, sizeof(errstr));
    if (!nt[i]) die("NewTopic", errstr);
    free(spec);
  }
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 10000, errstr, sizeof(errstr));
  rd_kafka_CreateTopics(rk, nt, (size_t)topics_n, opts, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
  int failed = 0;
  if (!ev) die("CreateTopics", "timed out");
  if (rd_kafka_event_error(ev)) die("CreateTopics", rd_kafka_event_error_string(ev));
  size_t cnt = 0;
  const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
  for (size_t i = 0; i < cnt; i++) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      fprintf(stderr, "loadgen: create %s: %s\n", rd_kafka_topic_result_name(res[i]), rd_kafka_err2str(err));
      failed = 1;
    }
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  for (int i = 0; i < topics_n; i++) rd_kafka_NewTopic_destroy(nt[i]);
  rd_kafka_destroy(rk);
  printf("{\"event\":\"end\",\"created\":%d}\n", topics_n);
  return failed;
}

/* ---------------------------------------------------------------- produce */

static long delivered = 0, delivered_bytes = 0, delivery_errors = 0;
static rd_kafka_resp_err_t last_error = 0;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err) {
    delivery_errors++;
    last_error = m->err;
  } else {
    delivered++;
    delivered_bytes += (long)m->len;
  }
}

static int cmd_produce(void) {
  rd_kafka_conf_t *conf = base_conf();
  char acks_s[16];
  snprintf(acks_s, sizeof(acks_s), "%d", acks);
  set_conf(conf, "acks", acks_s);
  rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
  rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, conf);
  char *payload = malloc((size_t)msg_size);
  for (int i = 0; i < msg_size; i++) payload[i] = (char)('a' + i % 26);
  double t0 = now_s();
  double start = t0 + warmup_s, end = start + duration_s;
  int started = 0;
  long d0 = 0, b0 = 0, e0 = 0, sent = 0;
  double ts = 0, te = 0;
  for (;;) {
    double t = now_s();
    if (!started && t >= start) {
      started = 1;
      ts = t;
      d0 = delivered;
      b0 = delivered_bytes;
      e0 = delivery_errors;
      emit_start();
    }
    if ((started && t >= end) || stop_flag || (max_msgs > 0 && delivered >= max_msgs)) {
      te = t;
      break;
    }
    if (max_msgs > 0 && sent >= max_msgs) {
      rd_kafka_poll(rk, 10);
      continue;
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, (size_t)msg_size),
                                                RD_KAFKA_V_MSGFLAGS(0), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 1);
      continue;
    }
    if (err) die("produce", rd_kafka_err2str(err));
    if ((++sent & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  if (!started) {
    ts = te;
    d0 = b0 = e0 = 0;
  }
  long msgs = delivered - d0, bytes = delivered_bytes - b0, errs = delivery_errors - e0;
  double secs = te - ts;
  if (max_msgs > 0) {
    /* a count-limited run (data preparation): all of it, from the first send */
    msgs = delivered;
    bytes = delivered_bytes;
    errs = delivery_errors;
    secs = te - t0;
  }
  printf("{\"event\":\"end\",\"msgs\":%ld,\"bytes\":%ld,\"seconds\":%.6f,\"errors\":%ld,\"lastError\":\"%s\"}\n", msgs, bytes,
         secs, errs, errs ? rd_kafka_err2str(last_error) : "");
  fflush(stdout);
  rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE);
  rd_kafka_flush(rk, 10000);
  rd_kafka_destroy(rk);
  free(payload);
  return 0;
}

/* ---------------------------------------------------------------- consume */

/* Log start and end offsets of each partition, queried when a consumer starts (the data does not change). */
static int64_t *lows = NULL, *highs = NULL;

static void query_watermarks(rd_kafka_t *rk) {
  lows = calloc((size_t)partitions, sizeof(int64_t));
  highs = calloc((size_t)partitions, sizeof(int64_t));
  for (int p = 0; p < partitions; p++) {
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, p, &lows[p], &highs[p], 30000);
    if (err) die("query_watermark_offsets", rd_kafka_err2str(err));
  }
}

static rd_kafka_topic_partition_list_t *all_from_beginning(void) {
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; p++) rd_kafka_topic_partition_list_add(l, topic, p)->offset = lows ? lows[p] : RD_KAFKA_OFFSET_BEGINNING;
  return l;
}

/*
 * A partition is read when its last record (end offset - 1, known from the start) has arrived: no waiting
 * for the end-of-partition event, which comes only after a fetch at the end has waited fetch.wait.max.ms.
 */
static int consume_loop(rd_kafka_t *rk, int assigned_all) {
  double t0 = now_s(), first = 0, ts = 0, te = 0;
  int started = 0;
  long msgs = 0, bytes = 0, m0 = 0, b0 = 0, errors = 0, passes = 0;
  int done_count = 0;
  char *done = calloc((size_t)partitions, 1);
  for (int p = 0; p < partitions; p++)
    if (highs[p] <= lows[p]) {
      done[p] = 1;
      done_count++;
    }
  for (;;) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    double t = now_s();
    if (m) {
      if (!m->err) {
        if (first == 0) {
          /* the window opens here if the data runs out before the warm-up ends (a later start replaces it) */
          first = t;
          emit_start();
        }
        msgs++;
        bytes += (long)m->len;
        int p = m->partition;
        if (p >= 0 && p < partitions && !done[p] && m->offset + 1 >= highs[p]) {
          done[p] = 1;
          done_count++;
        }
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        errors++;
        if (errors < 5) fprintf(stderr, "loadgen: consume: %s\n", rd_kafka_message_errstr(m));
      }
      rd_kafka_message_destroy(m);
    }
    if (!started && first > 0 && t >= first + warmup_s) {
      started = 1;
      ts = t;
      m0 = msgs;
      b0 = bytes;
      emit_start();
    }
    if (stop_flag || (started && t >= ts + duration_s)) {
      te = t;
      break;
    }
    if (first == 0 && t > t0 + 60) die("consume", "no message within 60 s");
    if (done_count >= partitions && first > 0) {
      if (loop_mode && assigned_all) {
        /* every partition has been read: read it all again */
        rd_kafka_topic_partition_list_t *l = all_from_beginning();
        rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        done_count = 0;
        for (int p = 0; p < partitions; p++) {
          done[p] = highs[p] <= lows[p];
          done_count += done[p];
        }
        passes++;
      } else {
        te = t;
        break;
      }
    }
  }
  if (!started) {
    /* the data ran out during the warm-up: measure from the first message */
    ts = first;
    m0 = b0 = 0;
  }
  printf("{\"event\":\"end\",\"msgs\":%ld,\"bytes\":%ld,\"seconds\":%.6f,\"errors\":%ld,\"passes\":%ld,\"fromFirst\":%s}\n", msgs - m0,
         bytes - b0, te - ts, errors, passes, started ? "false" : "true");
  fflush(stdout);
  free(done);
  return 0;
}

static int cmd_consume(void) {
  rd_kafka_conf_t *conf = base_conf();
  /* -L: the fetch in flight at the log end when a pass ends is waited for before the next pass starts */
  if (loop_mode) set_conf(conf, "fetch.wait.max.ms", "10");
  set_conf(conf, "group.id", group_id);
  set_conf(conf, "enable.partition.eof", "true");
  set_conf(conf, "enable.auto.commit", "false");
  rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  query_watermarks(rk);
  rd_kafka_topic_partition_list_t *l = all_from_beginning();
  rd_kafka_assign(rk, l);
  rd_kafka_topic_partition_list_destroy(l);
  consume_loop(rk, 1);
  rd_kafka_assign(rk, NULL);
  rd_kafka_destroy(rk);
  return 0;
}

static int cmd_group(void) {
  rd_kafka_conf_t *conf = base_conf();
  set_conf(conf, "group.id", group_id);
  set_conf(conf, "enable.partition.eof", "true");
  set_conf(conf, "auto.offset.reset", "earliest");
  rd_kafka_t *rk = new_client(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  query_watermarks(rk);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, l);
  if (err) die("subscribe", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_destroy(l);
  consume_loop(rk, 0);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

/* ---------------------------------------------------------------- latency */

static int64_t *lat = NULL;
static long lat_n = 0, lat_cap = 0;
/* INT64_MAX until the window starts: nothing is recorded before */
static volatile int64_t measure_from_ns = INT64_MAX, measure_to_ns = INT64_MAX;
static volatile int consumer_ready = 0, producer_done = 0;

static void *latency_consumer(void *arg) {
  rd_kafka_t *rk = arg;
  long errors = 0;
  while (!stop_flag) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
    if (!m) {
      if (producer_done) break;
      continue;
    }
    if (!m->err && m->len >= 8) {
      consumer_ready = 1;
      int64_t sent;
      memcpy(&sent, m->payload, 8);
      int64_t received = now_ns();
      if (sent >= measure_from_ns && sent < measure_to_ns && lat_n < lat_cap) lat[lat_n++] = received - sent;
    } else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (++errors < 5) fprintf(stderr, "loadgen: latency consumer: %s\n", rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
  }
  return NULL;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p) {
  if (lat_n == 0) return -1;
  long i = (long)(p * (double)(lat_n - 1) + 0.5);
  return (double)lat[i] / 1e6;
}

static int cmd_latency(void) {
  if (msg_size < 8) msg_size = 8;
  rd_kafka_conf_t *cconf = base_conf();
  set_conf(cconf, "group.id", group_id);
  set_conf(cconf, "enable.auto.commit", "false");
  rd_kafka_t *consumer = new_client(RD_KAFKA_CONSUMER, cconf);
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(l, topic, 0)->offset = RD_KAFKA_OFFSET_END;
  rd_kafka_assign(consumer, l);
  rd_kafka_topic_partition_list_destroy(l);

  rd_kafka_conf_t *pconf = base_conf();
  char acks_s[16];
  snprintf(acks_s, sizeof(acks_s), "%d", acks);
  set_conf(pconf, "acks", acks_s);
  set_conf(pconf, "linger.ms", "0");
  rd_kafka_conf_set_dr_msg_cb(pconf, dr_cb);
  rd_kafka_t *producer = new_client(RD_KAFKA_PRODUCER, pconf);

  lat_cap = (long)(rate * duration_s * 1.2) + 1024;
  lat = malloc(sizeof(int64_t) * (size_t)lat_cap);
  int64_t t0 = now_ns();
  int64_t warm_end = t0 + (int64_t)(warmup_s * 1e9);
  pthread_t th;
  pthread_create(&th, NULL, latency_consumer, consumer);
  char *payload = calloc(1, (size_t)msg_size);
  int64_t interval = (int64_t)(1e9 / rate);
  int64_t next = t0;
  long sent = 0;
  int started = 0;
  while (!stop_flag) {
    int64_t t = now_ns();
    /* the window opens after the warm-up, once the consumer receives what is produced */
    if (!started && t >= warm_end && consumer_ready) {
      started = 1;
      measure_to_ns = t + (int64_t)(duration_s * 1e9);
      measure_from_ns = t;
      emit_start();
    }
    if (t >= measure_to_ns) break;
    if (!started && t > warm_end + 60000000000LL) die("latency", "the consumer received nothing within 60 s");
    if (t < next) {
      /* sleep to the next send time (absolute schedule: a late wake-up sends the missed messages at once) */
      rd_kafka_poll(producer, 0);
      struct timespec ts = {(time_t)(next / 1000000000LL), (long)(next % 1000000000LL)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
      continue;
    }
    next += interval;
    memcpy(payload, &t, 8);
    rd_kafka_resp_err_t err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                                RD_KAFKA_V_VALUE(payload, (size_t)msg_size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                RD_KAFKA_V_END);
    if (err) die("produce", rd_kafka_err2str(err));
    sent++;
    rd_kafka_poll(producer, 0);
  }
  rd_kafka_flush(producer, 10000);
  /* let the consumer see the last messages */
  int64_t wait_until = now_ns() + 3000000000LL;
  while (now_ns() < wait_until) {
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
    long expected = (long)(rate * duration_s * 0.999);
    if (lat_n >= expected) break;
  }
  producer_done = 1;
  pthread_join(th, NULL);
  qsort(lat, (size_t)lat_n, sizeof(int64_t), cmp_i64);
  printf("{\"event\":\"end\",\"msgs\":%ld,\"sent\":%ld,\"seconds\":%.6f,\"errors\":%ld,\"p50Ms\":%.4f,\"p99Ms\":%.4f,\"p999Ms\":%.4f,"
         "\"maxMs\":%.4f}\n",
         lat_n, sent, duration_s, delivery_errors, pct(0.50), pct(0.99), pct(0.999), lat_n ? (double)lat[lat_n - 1] / 1e6 : -1);
  fflush(stdout);
  rd_kafka_destroy(producer);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  free(lat);
  free(payload);
  return 0;
}

/* ---------------------------------------------------------------- mock cluster */

static int cmd_mock(void) {
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set_conf(conf, "log_level", "3");
  rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, conf);
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
  if (!mc) die("rd_kafka_mock_cluster_new", "failed");
  for (int i = 0; i < topics_n; i++) {
    char *spec = strdup(topics_spec[i]);
    char *colon = strrchr(spec, ':');
    int parts = colon ? atoi(colon + 1) : 1;
    if (colon) *colon = '\0';
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mc, spec, parts, 1);
    if (err) die("mock topic", rd_kafka_err2str(err));
    free(spec);
  }
  printf("{\"event\":\"mock\",\"bootstraps\":\"%s\"}\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);
  char buf[256];
  while (!stop_flag && fgets(buf, sizeof(buf), stdin) != NULL) {
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}

/* ---------------------------------------------------------------- raw sockets */

static int connect_to(const char *hostport) {
  char host[256];
  snprintf(host, sizeof(host), "%s", hostport);
  char *colon = strrchr(host, ':');
  if (!colon) die("-b expects host:port", hostport);
  *colon = '\0';
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("address", host);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) die("connect", strerror(errno));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

static int cmd_socket(int sending) {
  int fd = connect_to(brokers);
  size_t block = 256 * 1024;
  char *buf = malloc(block);
  memset(buf, 'x', block);
  double t0 = now_s(), ts = 0, te = 0;
  long bytes = 0, b0 = 0;
  int started = 0;
  for (;;) {
    ssize_t n = sending ? write(fd, buf, block) : read(fd, buf, block);
    if (n <= 0) die(sending ? "write" : "read", n == 0 ? "closed" : strerror(errno));
    bytes += n;
    double t = now_s();
    if (!started && t >= t0 + warmup_s) {
      started = 1;
      ts = t;
      b0 = bytes;
      emit_start();
    }
    if (started && t >= ts + duration_s) {
      te = t;
      break;
    }
  }
  printf("{\"event\":\"end\",\"bytes\":%ld,\"seconds\":%.6f}\n", bytes - b0, te - ts);
  fflush(stdout);
  close(fd);
  free(buf);
  return 0;
}

/* ---------------------------------------------------------------- disk */

static int cmd_diskwrite(void) {
  int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("open", strerror(errno));
  size_t block = 1024 * 1024;
  char *buf = malloc(block);
  for (size_t i = 0; i < block; i++) buf[i] = (char)(i * 31);
  emit_start();
  double t0 = now_s();
  for (long i = 0; i < mib; i++) {
    size_t off = 0;
    while (off < block) {
      ssize_t n = write(fd, buf + off, block - off);
      if (n <= 0) die("write", strerror(errno));
      off += (size_t)n;
    }
  }
  double t1 = now_s();
  if (fdatasync(fd) != 0) die("fdatasync", strerror(errno));
  double t2 = now_s();
  printf("{\"event\":\"end\",\"bytes\":%ld,\"seconds\":%.6f,\"writeSeconds\":%.6f,\"syncSeconds\":%.6f}\n", mib * (long)block, t2 - t0,
         t1 - t0, t2 - t1);
  fflush(stdout);
  close(fd);
  unlink(file_path);
  free(buf);
  return 0;
}

/* Drops each file's pages from the page cache (clean pages only: the files must be flushed). */
static int cmd_dropcache(int argc, char **argv) {
  int failed = 0;
  for (int i = optind; i < argc; i++) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) {
      fprintf(stderr, "loadgen: dropcache %s: %s\n", argv[i], strerror(errno));
      failed = 1;
    }
    if (fd >= 0) close(fd);
  }
  printf("{\"event\":\"end\",\"files\":%d}\n", argc - optind);
  return failed;
}

/* Drops a file from the page cache, then reads it sequentially in 1 MiB blocks: the disk's read rate. */
static int cmd_diskread(void) {
  int fd = open(file_path, O_RDONLY);
  if (fd < 0) die("open", strerror(errno));
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  size_t block = 1024 * 1024;
  char *buf = malloc(block);
  emit_start();
  double t0 = now_s();
  long bytes = 0;
  for (;;) {
    ssize_t n = read(fd, buf, block);
    if (n < 0) die("read", strerror(errno));
    if (n == 0) break;
    bytes += n;
  }
  printf("{\"event\":\"end\",\"bytes\":%ld,\"seconds\":%.6f}\n", bytes, now_s() - t0);
  fflush(stdout);
  close(fd);
  free(buf);
  return 0;
}

static int cmd_fsyncrate(void) {
  int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) die("open", strerror(errno));
  char buf[4096];
  memset(buf, 'y', sizeof(buf));
  double t0 = now_s(), ts = 0, te = 0;
  long syncs = 0, s0 = 0;
  int started = 0;
  for (;;) {
    if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) die("write", strerror(errno));
    if (fdatasync(fd) != 0) die("fdatasync", strerror(errno));
    syncs++;
    double t = now_s();
    if (!started && t >= t0 + warmup_s) {
      started = 1;
      ts = t;
      s0 = syncs;
      emit_start();
    }
    if (started && t >= ts + duration_s) {
      te = t;
      break;
    }
  }
  printf("{\"event\":\"end\",\"syncs\":%ld,\"seconds\":%.6f}\n", syncs - s0, te - ts);
  fflush(stdout);
  close(fd);
  unlink(file_path);
  return 0;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv) {
  if (argc < 2) die("usage", "loadgen <create|produce|consume|group|latency|mock|sink|source|diskwrite|fsyncrate> [options]");
  const char *mode = argv[1];
  if (!strcmp(mode, "version")) {
    printf("%s\n", rd_kafka_version_str());
    return 0;
  }
  int opt;
  optind = 2;
  while ((opt = getopt(argc, argv, "b:t:g:s:a:w:d:n:P:LT:r:X:f:m:")) != -1) {
    switch (opt) {
      case 'b': brokers = optarg; break;
      case 't': topic = optarg; break;
      case 'g': group_id = optarg; break;
      case 's': msg_size = atoi(optarg); break;
      case 'a': acks = atoi(optarg); break;
      case 'w': warmup_s = atof(optarg); break;
      case 'd': duration_s = atof(optarg); break;
      case 'n': max_msgs = atol(optarg); break;
      case 'P': partitions = atoi(optarg); break;
      case 'L': loop_mode = 1; break;
      case 'T':
        if (topics_n < MAX_TOPICS) topics_spec[topics_n++] = optarg;
        break;
      case 'r': rate = atof(optarg); break;
      case 'X':
        if (conf_n < MAX_CONF) conf_kv[conf_n++] = optarg;
        break;
      case 'f': file_path = optarg; break;
      case 'm': mib = atol(optarg); break;
      default: die("unknown option", argv[optind - 1]);
    }
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  if (!strcmp(mode, "create")) return cmd_create();
  if (!strcmp(mode, "produce")) return cmd_produce();
  if (!strcmp(mode, "consume")) return cmd_consume();
  if (!strcmp(mode, "group")) return cmd_group();
  if (!strcmp(mode, "latency")) return cmd_latency();
  if (!strcmp(mode, "mock")) return cmd_mock();
  if (!strcmp(mode, "sink")) return cmd_socket(1);
  if (!strcmp(mode, "source")) return cmd_socket(0);
  if (!strcmp(mode, "diskwrite")) {
    if (!file_path) die("diskwrite", "-f FILE required");
    return cmd_diskwrite();
  }
  if (!strcmp(mode, "dropcache")) return cmd_dropcache(argc, argv);
  if (!strcmp(mode, "diskread")) {
    if (!file_path) die("diskread", "-f FILE required");
    return cmd_diskread();
  }
  if (!strcmp(mode, "fsyncrate")) {
    if (!file_path) die("fsyncrate", "-f FILE required");
    return cmd_fsyncrate();
  }
  die("unknown mode", mode);
  return 2;
}
