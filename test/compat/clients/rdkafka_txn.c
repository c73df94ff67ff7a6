/*
 * A transactional producer over librdkafka's C API, driven by a script on
 * stdin, for the compatibility matrix (rdkafka215.mjs) and for tests of
 * librdkafka's transactions (test/integration/transactions-librdkafka215.test.ts).
 * Every step reports what librdkafka answered, errors included, and the script
 * goes on: the caller judges.
 *
 *   rdkafka_txn -b HOST:PORT [-X prop=value]...     (producer properties: transactional.id, transaction.timeout.ms, ...)
 *
 * Commands, one a line, words separated by spaces; one JSON line out each,
 * {"cmd":NAME, "error":null|{...}, ...}, where an error is
 * {"name","text","fatal","retriable","abortable"} (rd_kafka_error_t's flags) or,
 * for librdkafka calls that answer a plain code, {"name","text"}:
 *
 *   init MS                        rd_kafka_init_transactions
 *   begin                          rd_kafka_begin_transaction
 *   produce TOPIC P KEY VALUE HDRS queue one message (hex KEY, VALUE, HDRS as rdkafka_driver.c: "-" for
 *                                  none, hexkey=hexvalue pairs separated by commas); "error" when not queued
 *   flush MS                       rd_kafka_flush, then {"delivered","failed","errors":[first few]} so far
 *   commit MS | abort MS           rd_kafka_commit_transaction / rd_kafka_abort_transaction, with the counts
 *   sleep MS                       wait, serving the producer's events
 *   fatal                          rd_kafka_fatal_error: {"error":null|{"name","text"}}
 *   new                            destroy the producer (without flushing) and create another with the same properties
 *   consume GROUP TOPIC COUNT      a group consumer (read_committed, no auto commit) subscribes to TOPIC and
 *                                  reads COUNT messages: {"messages":[{"partition","offset","key","value"}]}
 *   forward TOPIC                  produce the messages the last consume read to TOPIC, same key and value
 *   send-offsets MS                rd_kafka_send_offsets_to_transaction: the consumer's positions, its group metadata
 *   committed MS                   the group's committed offsets of the consumer's assignment: {"offsets":[{"partition","offset"}]}
 *
 * Exit status 0 after the last line, whatever the answers; 1 with a {"fatal":...}
 * line when the script cannot go on (bad command, no consumer for send-offsets).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static const char *brokers;
static char *props[64];
static int nprops;

static rd_kafka_t *producer;
static rd_kafka_t *consumer;
static rd_kafka_message_t *consumed[100000];
static int nconsumed;

static int delivered, failed;
static char first_errors[4][512];

static void die(const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  printf("{\"fatal\":\"");
  for (const char *p = msg; *p; p++) {
    if (*p == '"' || *p == '\\') putchar('\\');
    putchar(isprint((unsigned char)*p) ? *p : ' ');
  }
  printf("\"}\n");
  exit(1);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ JSON out */

static void json_str(const char *s) {
  if (s == NULL) {
    printf("null");
    return;
  }
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p < 0x20)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

static void json_hex(const void *data, size_t len) {
  if (data == NULL) {
    printf("null");
    return;
  }
  putchar('"');
  for (size_t i = 0; i < len; i++) printf("%02x", ((const unsigned char *)data)[i]);
  putchar('"');
}

/* Prints `"error":...` for an rd_kafka_error_t (NULL: no error) and destroys it. */
static void json_error(rd_kafka_error_t *e) {
  printf("\"error\":");
  if (e == NULL) {
    printf("null");
    return;
  }
  printf("{\"name\":");
  json_str(rd_kafka_error_name(e));
  printf(",\"text\":");
  json_str(rd_kafka_error_string(e));
  printf(",\"fatal\":%s,\"retriable\":%s,\"abortable\":%s}", rd_kafka_error_is_fatal(e) ? "true" : "false",
         rd_kafka_error_is_retriable(e) ? "true" : "false", rd_kafka_error_txn_requires_abort(e) ? "true" : "false");
  rd_kafka_error_destroy(e);
}

static void json_code(rd_kafka_resp_err_t err, const char *text) {
  printf("\"error\":");
  if (!err) {
    printf("null");
    return;
  }
  printf("{\"name\":");
  json_str(rd_kafka_err2name(err));
  printf(",\"text\":");
  json_str(text ? text : rd_kafka_err2str(err));
  printf("}");
}

static void json_counts(void) {
  printf(",\"delivered\":%d,\"failed\":%d,\"errors\":[", delivered, failed);
  for (int i = 0; i < failed && i < 4; i++) {
    if (i) putchar(',');
    json_str(first_errors[i]);
  }
  printf("]");
}

/* ------------------------------------------------------------------ hex in */

static void *unhex(const char *s, size_t *len) {
  if (strcmp(s, "-") == 0) {
    *len = 0;
    return NULL;
  }
  size_t n = strlen(s);
  if (n % 2) die("odd hex length: %s", s);
  unsigned char *out = malloc(n / 2 + 1);
  for (size_t i = 0; i < n / 2; i++) {
    unsigned int b;
    if (sscanf(s + 2 * i, "%2x", &b) != 1) die("bad hex: %s", s);
    out[i] = (unsigned char)b;
  }
  *len = n / 2;
  return out;
}

/* ------------------------------------------------------------------ handles */

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) die("%s: %s", name, errstr);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivered++;
    return;
  }
  if (failed < 4) snprintf(first_errors[failed], sizeof first_errors[0], "%s: %s", rd_kafka_err2name(m->err), rd_kafka_err2str(m->err));
  failed++;
}

static rd_kafka_t *new_producer(void) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", brokers);
  for (int i = 0; i < nprops; i++) {
    char *eq = strchr(props[i], '=');
    if (eq == NULL) die("-X %s: expected prop=value", props[i]);
    *eq = '\0';
    set(conf, props[i], eq + 1);
    *eq = '=';
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == NULL) die("rd_kafka_new: %s", errstr);
  return rk;
}

static rd_kafka_t *new_consumer(const char *group) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", brokers);
  set(conf, "group.id", group);
  set(conf, "client.id", "compat-librdkafka-2.15-txn-consumer");
  set(conf, "isolation.level", "read_committed");
  set(conf, "auto.offset.reset", "earliest");
  set(conf, "enable.auto.commit", "false");
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (rk == NULL) die("rd_kafka_new (consumer): %s", errstr);
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

/* ------------------------------------------------------------------ commands */

static int produce(char *topic, char *partition, char *khex, char *vhex, char *hhex) {
  size_t klen, vlen;
  void *key = unhex(khex, &klen);
  void *value = unhex(vhex, &vlen);
  rd_kafka_headers_t *hdrs = NULL;
  if (strcmp(hhex, "-") != 0) {
    hdrs = rd_kafka_headers_new(4);
    char *save = NULL;
    for (char *pair = strtok_r(hhex, ",", &save); pair; pair = strtok_r(NULL, ",", &save)) {
      char *eq = strchr(pair, '=');
      if (eq == NULL) die("bad header %s", pair);
      *eq = '\0';
      size_t hklen, hvlen;
      char *hk = unhex(pair, &hklen);
      void *hv = unhex(eq + 1, &hvlen);
      rd_kafka_header_add(hdrs, hk, (ssize_t)hklen, hv, (ssize_t)hvlen);
      free(hk);
      free(hv);
    }
  }
  rd_kafka_resp_err_t err;
  for (;;) {
    err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)strtol(partition, NULL, 10)),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE(value, vlen),
                            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
    rd_kafka_poll(producer, 100);
  }
  if (err && hdrs) rd_kafka_headers_destroy(hdrs);
  free(key);
  free(value);
  rd_kafka_poll(producer, 0);
  return err;
}

static void cmd_consume(const char *group, const char *topic, int count) {
  if (consumer == NULL) {
    consumer = new_consumer(group);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) die("subscribe: %s", rd_kafka_err2str(err));
  }
  for (int i = 0; i < nconsumed; i++) rd_kafka_message_destroy(consumed[i]);
  nconsumed = 0;
  long long deadline = now_ms() + 30000;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  const char *text = NULL;
  char buf[512];
  while (nconsumed < count && nconsumed < (int)(sizeof consumed / sizeof consumed[0])) {
    if (now_ms() > deadline) {
      err = RD_KAFKA_RESP_ERR__TIMED_OUT;
      snprintf(buf, sizeof buf, "read %d of %d messages in 30 s", nconsumed, count);
      text = buf;
      break;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
    if (producer) rd_kafka_poll(producer, 0);
    if (m == NULL) continue;
    if (m->err) {
      err = m->err;
      snprintf(buf, sizeof buf, "%s", rd_kafka_message_errstr(m));
      text = buf;
      rd_kafka_message_destroy(m);
      break;
    }
    consumed[nconsumed++] = m;
  }
  printf("{\"cmd\":\"consume\",");
  json_code(err, text);
  printf(",\"messages\":[");
  for (int i = 0; i < nconsumed; i++) {
    const rd_kafka_message_t *m = consumed[i];
    printf("%s{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"key\":", i ? "," : "", m->partition, m->offset);
    json_hex(m->key, m->key_len);
    printf(",\"value\":");
    json_hex(m->payload, m->len);
    printf("}");
  }
  printf("]}\n");
}

static void cmd_forward(const char *topic) {
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (int i = 0; i < nconsumed && !err; i++) {
    const rd_kafka_message_t *m = consumed[i];
    for (;;) {
      err = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(m->key, m->key_len),
                              RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(producer, 100);
    }
  }
  printf("{\"cmd\":\"forward\",");
  json_code(err, NULL);
  printf(",\"forwarded\":%d}\n", nconsumed);
}

static void cmd_send_offsets(int ms) {
  if (consumer == NULL) die("send-offsets: no consumer (consume first)");
  rd_kafka_topic_partition_list_t *positions;
  rd_kafka_resp_err_t err = rd_kafka_assignment(consumer, &positions);
  if (err) die("assignment: %s", rd_kafka_err2str(err));
  err = rd_kafka_position(consumer, positions);
  if (err) die("position: %s", rd_kafka_err2str(err));
  rd_kafka_consumer_group_metadata_t *cgmd = rd_kafka_consumer_group_metadata(consumer);
  rd_kafka_error_t *e = rd_kafka_send_offsets_to_transaction(producer, positions, cgmd, ms);
  printf("{\"cmd\":\"send-offsets\",\"offsets\":[");
  for (int i = 0; i < positions->cnt; i++)
    printf("%s{\"partition\":%" PRId32 ",\"offset\":%" PRId64 "}", i ? "," : "", positions->elems[i].partition, positions->elems[i].offset);
  printf("],");
  json_error(e);
  printf("}\n");
  rd_kafka_consumer_group_metadata_destroy(cgmd);
  rd_kafka_topic_partition_list_destroy(positions);
}

static void cmd_committed(int ms) {
  if (consumer == NULL) die("committed: no consumer (consume first)");
  rd_kafka_topic_partition_list_t *assigned;
  rd_kafka_resp_err_t err = rd_kafka_assignment(consumer, &assigned);
  if (err) die("assignment: %s", rd_kafka_err2str(err));
  err = rd_kafka_committed(consumer, assigned, ms);
  printf("{\"cmd\":\"committed\",");
  json_code(err, NULL);
  printf(",\"offsets\":[");
  for (int i = 0; i < assigned->cnt; i++)
    printf("%s{\"partition\":%" PRId32 ",\"offset\":%" PRId64 "}", i ? "," : "", assigned->elems[i].partition, assigned->elems[i].offset);
  printf("]}\n");
  rd_kafka_topic_partition_list_destroy(assigned);
}

static void sleep_serving(int ms) {
  long long until = now_ms() + ms;
  while (now_ms() < until) {
    rd_kafka_poll(producer, 50);
    if (consumer) {
      rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 0);
      if (m) rd_kafka_message_destroy(m); /* not expected: the caller reads what it asked for */
    }
  }
}

int main(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "b:X:")) != -1) {
    switch (opt) {
      case 'b': brokers = optarg; break;
      case 'X':
        if (nprops == 64) die("too many -X");
        props[nprops++] = optarg;
        break;
      default: die("usage: rdkafka_txn -b HOST:PORT [-X prop=value]... < script");
    }
  }
  if (brokers == NULL) die("usage: rdkafka_txn -b HOST:PORT [-X prop=value]... < script");
  setvbuf(stdout, NULL, _IOLBF, 0);
  producer = new_producer();
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  while ((len = getline(&line, &cap, stdin)) > 0) {
    if (line[len - 1] == '\n') line[--len] = '\0';
    char *w[8] = {0};
    int n = 0;
    char *save = NULL;
    for (char *t = strtok_r(line, " ", &save); t && n < 8; t = strtok_r(NULL, " ", &save)) w[n++] = t;
    if (n == 0) continue;
    const char *cmd = w[0];
    int ms = n > 1 ? atoi(w[1]) : 30000;
    if (strcmp(cmd, "init") == 0) {
      printf("{\"cmd\":\"init\",");
      json_error(rd_kafka_init_transactions(producer, ms));
      printf("}\n");
    } else if (strcmp(cmd, "begin") == 0) {
      printf("{\"cmd\":\"begin\",");
      json_error(rd_kafka_begin_transaction(producer));
      printf("}\n");
    } else if (strcmp(cmd, "produce") == 0 && n == 6) {
      rd_kafka_resp_err_t err = produce(w[1], w[2], w[3], w[4], w[5]);
      if (err) {
        printf("{\"cmd\":\"produce\",");
        json_code(err, NULL);
        printf("}\n");
      }
    } else if (strcmp(cmd, "flush") == 0) {
      rd_kafka_resp_err_t err = rd_kafka_flush(producer, ms);
      printf("{\"cmd\":\"flush\",");
      json_code(err, NULL);
      json_counts();
      printf("}\n");
    } else if (strcmp(cmd, "commit") == 0 || strcmp(cmd, "abort") == 0) {
      rd_kafka_error_t *e = cmd[0] == 'c' ? rd_kafka_commit_transaction(producer, ms) : rd_kafka_abort_transaction(producer, ms);
      rd_kafka_poll(producer, 0);
      printf("{\"cmd\":\"%s\",", cmd);
      json_error(e);
      json_counts();
      printf("}\n");
    } else if (strcmp(cmd, "sleep") == 0) {
      sleep_serving(ms);
      printf("{\"cmd\":\"sleep\",\"error\":null}\n");
    } else if (strcmp(cmd, "fatal") == 0) {
      char text[512];
      rd_kafka_resp_err_t err = rd_kafka_fatal_error(producer, text, sizeof text);
      printf("{\"cmd\":\"fatal\",");
      json_code(err, err ? text : NULL);
      printf("}\n");
    } else if (strcmp(cmd, "new") == 0) {
      rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      rd_kafka_poll(producer, 0);
      rd_kafka_destroy(producer);
      producer = new_producer();
      printf("{\"cmd\":\"new\",\"error\":null}\n");
    } else if (strcmp(cmd, "consume") == 0 && n == 4) {
      cmd_consume(w[1], w[2], atoi(w[3]));
    } else if (strcmp(cmd, "forward") == 0 && n == 2) {
      cmd_forward(w[1]);
    } else if (strcmp(cmd, "send-offsets") == 0) {
      cmd_send_offsets(ms);
    } else if (strcmp(cmd, "committed") == 0) {
      cmd_committed(ms);
    } else {
      die("unknown command or wrong arguments: %s", cmd);
    }
  }
  free(line);
  for (int i = 0; i < nconsumed; i++) rd_kafka_message_destroy(consumed[i]);
  if (consumer) {
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
  }
  rd_kafka_flush(producer, 5000);
  rd_kafka_destroy(producer);
  return 0;
}
