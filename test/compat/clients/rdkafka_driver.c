/*
 * A small kcat-like command-line driver over librdkafka's C API, so that the
 * compatibility matrix (and tests) can use a librdkafka built from source
 * rather than the one kcat was built with. It does one thing per run and
 * prints JSON on stdout; rdkafka215.mjs drives it as kcat.mjs drives kcat.
 *
 *   rdkafka_driver -b HOST:PORT [-X prop=value]... [-T timeout_ms] COMMAND ARGS...
 *   rdkafka_driver version               {"version","features"} of the librdkafka it runs with
 *
 *   metadata TOPIC                       {"brokers":[{"id","host","port"}],"partitions":[{"id","leader","error"}],"error"}
 *   list-topics                          {"topics":[names]}
 *   produce TOPIC                        records on stdin, one per line (below), polled until delivered (linger.ms
 *                                        and batch.num.messages hold: no flush before): {"delivered":n,"failed":n,"errors":[...]}
 *   consume TOPIC P[,P...] OFFSET        assign (no group) from OFFSET (beginning|end|N) to each partition's end: a message line each
 *   group TOPIC GROUP COUNT              subscribe, read COUNT messages, commit, close: a message line each, then {"committed":[...]}
 *   member TOPIC GROUP [EVERY]           a group member until its stdin ends (or -T passes), then a clean close;
 *                                        an event line for each change (below) and a message line for each message
 *   offsets TOPIC PARTITION TS...        {"times":[offset per TS],"low","high"}
 *   create-topic TOPIC PARTITIONS        CreateTopics: {"error":null|"NAME: text"}
 *   delete-topic TOPIC                   DeleteTopics: {"error":...}
 *   describe-config TOPIC NAME           DescribeConfigs: {"value":...}
 *   alter-config TOPIC NAME VALUE        IncrementalAlterConfigs (SET): {"error":...}
 *   describe-group-config GROUP NAME     the same on a group (KIP-848/KIP-932 group configs,
 *   alter-group-config GROUP NAME VALUE  such as a share group's share.auto.offset.reset)
 *
 * Record lines (produce): PARTITION TAB TIMESTAMP TAB KEY TAB VALUE TAB HEADERS,
 * KEY and VALUE hex ("-" for null), TIMESTAMP 0 for "now", HEADERS "-" or
 * hexkey=hexvalue pairs separated by commas ("-" for a null value).
 * Message lines (consume, group): {"partition","offset","ts","key","value","headers":[[k,v]]}
 * with hex keys, values and headers (null for null).
 *
 * member: a message counts as processed once its line is printed; the member
 * commits what it processed (synchronously, the next offset of each partition
 * it printed from) for the partitions it gives up before it gives them up, so
 * that a member that leaves hands every processed record over committed; and
 * also after every EVERY messages (default 20) and whenever its queue is empty,
 * unless EVERY is 0. Its event lines:
 *   {"event":"assigned","partitions":[...],"protocol":"COOPERATIVE"|"EAGER"|"NONE"}
 *   {"event":"revoked","partitions":[...],"lost":bool}   (lost: not committed, librdkafka says the member lost them)
 *   {"event":"committed","offsets":[{"partition","offset"}]}   after the commit succeeded
 *   {"event":"commit-failed","error":"..."}   {"event":"error","error":"..."}   {"event":"closed"}
 * Exit status 0 when the
 * command did what it was asked (an error the broker answered with, such as
 * CreateTopics' TOPIC_ALREADY_EXISTS, is a result); otherwise 1 with a
 * {"fatal":"..."} line.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

static const char *brokers;
static int timeout_ms = 30000;
static char *props[64];
static int nprops;

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

static void json_err(rd_kafka_resp_err_t err, const char *text) {
  if (!err) {
    printf("null");
    return;
  }
  char buf[1024];
  snprintf(buf, sizeof buf, "%s: %s", rd_kafka_err2name(err), text ? text : rd_kafka_err2str(err));
  json_str(buf);
}

/* ------------------------------------------------------------------ hex in */

/* Decodes hex `s` into a new buffer; "-" is null. */
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

static rd_kafka_conf_t *base_conf(void) {
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) die("%s", errstr);
  for (int i = 0; i < nprops; i++) {
    char *eq = strchr(props[i], '=');
    if (eq == NULL) die("-X %s: expected prop=value", props[i]);
    *eq = '\0';
    rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, props[i], eq + 1, errstr, sizeof errstr);
    *eq = '=';
    if (r != RD_KAFKA_CONF_OK) die("-X %s: %s", props[i], errstr);
  }
  return conf;
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) die("%s: %s", name, errstr);
}

static rd_kafka_t *make(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
  char errstr[512];
  rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (rk == NULL) die("rd_kafka_new: %s", errstr);
  return rk;
}

/* ------------------------------------------------------------------ metadata */

static int cmd_metadata(const char *topic) {
  rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, base_conf());
  rd_kafka_topic_t *rkt = topic ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
  const struct rd_kafka_metadata *md;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, topic == NULL, rkt, &md, timeout_ms);
  if (err) die("metadata: %s", rd_kafka_err2str(err));
  if (topic == NULL) {
    printf("{\"topics\":[");
    for (int i = 0; i < md->topic_cnt; i++) {
      if (i) putchar(',');
      json_str(md->topics[i].topic);
    }
    printf("]}\n");
  } else {
    printf("{\"brokers\":[");
    for (int i = 0; i < md->broker_cnt; i++) {
      printf("%s{\"id\":%" PRId32 ",\"host\":", i ? "," : "", md->brokers[i].id);
      json_str(md->brokers[i].host);
      printf(",\"port\":%d}", md->brokers[i].port);
    }
    printf("],\"error\":");
    const rd_kafka_metadata_topic_t *t = md->topic_cnt > 0 ? &md->topics[0] : NULL;
    json_err(t ? t->err : RD_KAFKA_RESP_ERR_NO_ERROR, NULL);
    printf(",\"partitions\":[");
    for (int i = 0; t && i < t->partition_cnt; i++) {
      printf("%s{\"id\":%" PRId32 ",\"leader\":%" PRId32 ",\"error\":%d}", i ? "," : "", t->partitions[i].id, t->partitions[i].leader, t->partitions[i].err);
    }
    printf("]}\n");
  }
  rd_kafka_metadata_destroy(md);
  if (rkt) rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return 0;
}

/* ------------------------------------------------------------------ produce */

static int delivered, failed;
static char first_errors[4][512];

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk;
  (void)opaque;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivered++;
    return;
  }
  /* rd_kafka_err2str, not rd_kafka_message_errstr: for a delivery report, that is the message's payload. */
  if (failed < 4) snprintf(first_errors[failed], sizeof first_errors[0], "%s: %s", rd_kafka_err2name(m->err), rd_kafka_err2str(m->err));
  failed++;
}

static int cmd_produce(const char *topic) {
  rd_kafka_conf_t *conf = base_conf();
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, conf);
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int sent = 0;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (line[n - 1] == '\n') line[--n] = '\0';
    if (n == 0) continue;
    char *fields[5];
    char *rest = line;
    int nf = 0;
    for (char *tok; nf < 5 && (tok = strsep(&rest, "\t")) != NULL;) fields[nf++] = tok; /* keeps empty fields: "" is an empty key */
    if (nf != 5 || rest != NULL) die("record line %d: expected 5 tab-separated fields", sent + 1);
    size_t klen, vlen;
    void *key = unhex(fields[2], &klen);
    void *value = unhex(fields[3], &vlen);
    rd_kafka_headers_t *hdrs = NULL;
    if (strcmp(fields[4], "-") != 0) {
      hdrs = rd_kafka_headers_new(4);
      char *hsave = NULL;
      for (char *pair = strtok_r(fields[4], ",", &hsave); pair; pair = strtok_r(NULL, ",", &hsave)) {
        char *eq = strchr(pair, '=');
        if (eq == NULL) die("header %s: expected key=value", pair);
        *eq = '\0';
        size_t hk, hv;
        char *hname = unhex(pair, &hk);
        void *hval = unhex(eq + 1, &hv);
        char *name = calloc(1, hk + 1);
        memcpy(name, hname, hk);
        rd_kafka_header_add(hdrs, name, (ssize_t)hk, hval, hval ? (ssize_t)hv : 0);
        free(name);
        free(hname);
        free(hval);
      }
    }
    int64_t ts = strtoll(fields[1], NULL, 10);
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)strtol(fields[0], NULL, 10)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE(value, vlen), RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 100);
        continue;
      }
      if (err) {
        /* Not queued: the headers are still ours, and this counts as a failed delivery. */
        if (hdrs) rd_kafka_headers_destroy(hdrs);
        if (failed < 4) snprintf(first_errors[failed], sizeof first_errors[0], "%s: %s (produce)", rd_kafka_err2name(err), rd_kafka_err2str(err));
        failed++;
      }
      break;
    }
    free(key);
    free(value);
    sent++;
    rd_kafka_poll(rk, 0);
  }
  free(line);
  /* Poll until everything is delivered, and flush only then: rd_kafka_flush() sends
   * whatever is queued at once, ignoring linger.ms and batch.num.messages, so a
   * caller that sets them to make one batch would get what the timing gives. */
  long long deadline = now_ms() + timeout_ms;
  while (rd_kafka_outq_len(rk) > 0 && now_ms() < deadline) rd_kafka_poll(rk, 50);
  long long left = deadline - now_ms();
  rd_kafka_resp_err_t err = rd_kafka_flush(rk, left > 0 ? (int)left : 0);
  printf("{\"delivered\":%d,\"failed\":%d,\"flush\":", delivered, failed);
  json_err(err, NULL);
  printf(",\"errors\":[");
  for (int i = 0; i < failed && i < 4; i++) {
    if (i) putchar(',');
    json_str(first_errors[i]);
  }
  printf("]}\n");
  rd_kafka_destroy(rk);
  return failed == 0 && err == RD_KAFKA_RESP_ERR_NO_ERROR && delivered == sent ? 0 : 1;
}

/* ------------------------------------------------------------------ consume */

static void print_message(const rd_kafka_message_t *m) {
  rd_kafka_timestamp_type_t tstype;
  int64_t ts = rd_kafka_message_timestamp(m, &tstype);
  printf("{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"ts\":%" PRId64 ",\"key\":", m->partition, m->offset, ts);
  json_hex(m->key, m->key_len);
  printf(",\"value\":");
  json_hex(m->payload, m->len);
  printf(",\"headers\":[");
  rd_kafka_headers_t *hdrs;
  if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char *name;
    const void *val;
    size_t size;
    for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
      printf("%s[", i ? "," : "");
      json_hex(name, strlen(name));
      putchar(',');
      json_hex(val, size);
      putchar(']');
    }
  }
  printf("]}\n");
}

static rd_kafka_t *consumer(const char *group, int eof) {
  rd_kafka_conf_t *conf = base_conf();
  char gid[64];
  if (group == NULL) {
    /* librdkafka's consumer needs a group.id; assign() never joins it nor reads its offsets. */
    snprintf(gid, sizeof gid, "rdkafka-driver-%d-%lld", (int)getpid(), now_ms());
    group = gid;
  }
  set(conf, "group.id", group);
  set(conf, "auto.offset.reset", "earliest");
  set(conf, "enable.auto.commit", "false");
  if (eof) set(conf, "enable.partition.eof", "true");
  rd_kafka_t *rk = make(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

static int64_t parse_offset(const char *s) {
  if (strcmp(s, "beginning") == 0) return RD_KAFKA_OFFSET_BEGINNING;
  if (strcmp(s, "end") == 0) return RD_KAFKA_OFFSET_END;
  return strtoll(s, NULL, 10);
}

static int cmd_consume(const char *topic, const char *parts, const char *from) {
  rd_kafka_t *rk = consumer(NULL, 1);
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
  char *copy = strdup(parts), *save = NULL;
  for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
    rd_kafka_topic_partition_list_add(list, topic, (int32_t)strtol(p, NULL, 10))->offset = parse_offset(from);
  free(copy);
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, list);
  if (err) die("assign: %s", rd_kafka_err2str(err));
  int at_end = 0;
  long long deadline = now_ms() + timeout_ms;
  while (at_end < list->cnt) {
    if (now_ms() > deadline) die("timed out: %d of %d partitions read to their end", at_end, list->cnt);
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m == NULL) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
      at_end++;
    else if (m->err)
      die("consume: %s: %s", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
    else
      print_message(m);
    rd_kafka_message_destroy(m);
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

static int cmd_group(const char *topic, const char *group, int count) {
  rd_kafka_t *rk = consumer(group, 0);
  rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
  if (err) die("subscribe: %s", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_destroy(topics);
  long long deadline = now_ms() + timeout_ms;
  for (int got = 0; got < count;) {
    if (now_ms() > deadline) die("timed out after %d of %d messages", got, count);
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m == NULL) continue;
    if (m->err) die("consume: %s: %s", rd_kafka_err2name(m->err), rd_kafka_message_errstr(m));
    print_message(m);
    got++;
    rd_kafka_message_destroy(m);
  }
  err = rd_kafka_commit(rk, NULL, 0);
  if (err) die("commit: %s", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_t *assigned;
  err = rd_kafka_assignment(rk, &assigned);
  if (err) die("assignment: %s", rd_kafka_err2str(err));
  err = rd_kafka_committed(rk, assigned, timeout_ms);
  if (err) die("committed: %s", rd_kafka_err2str(err));
  printf("{\"committed\":[");
  for (int i = 0; i < assigned->cnt; i++)
    printf("%s{\"partition\":%" PRId32 ",\"offset\":%" PRId64 "}", i ? "," : "", assigned->elems[i].partition, assigned->elems[i].offset);
  printf("]}\n");
  rd_kafka_topic_partition_list_destroy(assigned);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

/* ------------------------------------------------------------------ member */

#define MAX_PARTITIONS 1024
static const char *member_topic;
static int64_t processed_to[MAX_PARTITIONS]; /* next offset after the last printed message, -1 for none */
static int uncommitted[MAX_PARTITIONS];

static void json_partitions(const rd_kafka_topic_partition_list_t *parts) {
  putchar('[');
  for (int i = 0; i < parts->cnt; i++) printf("%s%" PRId32, i ? "," : "", parts->elems[i].partition);
  putchar(']');
}

/* Commits what was processed and not yet committed, of `only` (NULL: every partition); prints the outcome. */
static void commit_processed(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *only) {
  rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
  for (int p = 0; p < MAX_PARTITIONS; p++) {
    if (!uncommitted[p]) continue;
    if (only != NULL && rd_kafka_topic_partition_list_find(only, member_topic, p) == NULL) continue;
    rd_kafka_topic_partition_list_add(list, member_topic, p)->offset = processed_to[p];
  }
  if (list->cnt > 0) {
    rd_kafka_resp_err_t err = rd_kafka_commit(rk, list, 0);
    for (int i = 0; !err && i < list->cnt; i++) err = list->elems[i].err;
    if (err) {
      printf("{\"event\":\"commit-failed\",\"error\":");
      json_err(err, NULL);
      printf("}\n");
    } else {
      printf("{\"event\":\"committed\",\"offsets\":[");
      for (int i = 0; i < list->cnt; i++) {
        printf("%s{\"partition\":%" PRId32 ",\"offset\":%" PRId64 "}", i ? "," : "", list->elems[i].partition, list->elems[i].offset);
        uncommitted[list->elems[i].partition] = 0;
      }
      printf("]}\n");
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque) {
  (void)opaque;
  const char *protocol = rd_kafka_rebalance_protocol(rk);
  int cooperative = protocol != NULL && strcmp(protocol, "COOPERATIVE") == 0;
  rd_kafka_error_t *error = NULL;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    printf("{\"event\":\"assigned\",\"partitions\":");
    json_partitions(parts);
    printf(",\"protocol\":");
    json_str(protocol);
    printf("}\n");
    if (cooperative)
      error = rd_kafka_incremental_assign(rk, parts);
    else
      rd_kafka_assign(rk, parts);
  } else {
    int lost = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || rd_kafka_assignment_lost(rk);
    if (!lost) commit_processed(rk, parts);
    for (int i = 0; i < parts->cnt; i++)
      if (parts->elems[i].partition < MAX_PARTITIONS) uncommitted[parts->elems[i].partition] = 0;
    printf("{\"event\":\"revoked\",\"partitions\":");
    json_partitions(parts);
    printf(",\"lost\":%s}\n", lost ? "true" : "false");
    if (cooperative)
      error = rd_kafka_incremental_unassign(rk, parts);
    else
      rd_kafka_assign(rk, NULL);
  }
  if (error != NULL) {
    printf("{\"event\":\"error\",\"error\":");
    json_str(rd_kafka_error_string(error));
    printf("}\n");
    rd_kafka_error_destroy(error);
  }
}

/* Has stdin ended? (Whatever it holds is read and ignored.) */
static int stdin_ended(void) {
  struct pollfd pfd = {.fd = 0, .events = POLLIN};
  if (poll(&pfd, 1, 0) <= 0) return 0;
  char buf[256];
  return read(0, buf, sizeof buf) <= 0;
}

static int cmd_member(const char *topic, const char *group, int every) {
  member_topic = topic;
  for (int p = 0; p < MAX_PARTITIONS; p++) processed_to[p] = -1;
  rd_kafka_conf_t *conf = base_conf();
  set(conf, "group.id", group);
  set(conf, "auto.offset.reset", "earliest");
  set(conf, "enable.auto.commit", "false");
  rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
  rd_kafka_t *rk = make(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, topics);
  if (err) die("subscribe: %s", rd_kafka_err2str(err));
  rd_kafka_topic_partition_list_destroy(topics);
  long long deadline = now_ms() + timeout_ms;
  int since_commit = 0;
  while (!stdin_ended() && now_ms() < deadline) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (m == NULL) {
      if (every > 0 && since_commit > 0) commit_processed(rk, NULL);
      since_commit = 0;
      continue;
    }
    if (m->err) {
      printf("{\"event\":\"error\",\"error\":");
      json_err(m->err, rd_kafka_message_errstr(m));
      printf("}\n");
    } else if (m->partition >= 0 && m->partition < MAX_PARTITIONS) {
      print_message(m);
      processed_to[m->partition] = m->offset + 1;
      uncommitted[m->partition] = 1;
      if (++since_commit == every) {
        commit_processed(rk, NULL);
        since_commit = 0;
      }
    }
    rd_kafka_message_destroy(m);
  }
  err = rd_kafka_consumer_close(rk); /* gives every partition up: commits them */
  if (err) die("close: %s", rd_kafka_err2str(err));
  rd_kafka_destroy(rk);
  printf("{\"event\":\"closed\"}\n");
  return 0;
}

static int cmd_offsets(const char *topic, int32_t partition, int nts, char **tss) {
  rd_kafka_t *rk = consumer(NULL, 0);
  printf("{\"times\":[");
  for (int i = 0; i < nts; i++) {
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, partition)->offset = strtoll(tss[i], NULL, 10);
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list, timeout_ms);
    if (err || list->elems[0].err) die("offsets_for_times %s: %s", tss[i], rd_kafka_err2str(err ? err : list->elems[0].err));
    printf("%s%" PRId64, i ? "," : "", list->elems[0].offset);
    rd_kafka_topic_partition_list_destroy(list);
  }
  int64_t low, high;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, timeout_ms);
  if (err) die("watermarks: %s", rd_kafka_err2str(err));
  printf("],\"low\":%" PRId64 ",\"high\":%" PRId64 "}\n", low, high);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return 0;
}

/* ------------------------------------------------------------------ admin */

/* Waits for the result event of an admin request on `q`; dies on a request-level error. */
static rd_kafka_event_t *admin_result(rd_kafka_queue_t *q, rd_kafka_event_type_t type) {
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
  if (ev == NULL) die("admin request timed out");
  if (rd_kafka_event_type(ev) != type) die("unexpected admin event %s", rd_kafka_event_name(ev));
  if (rd_kafka_event_error(ev)) die("%s: %s", rd_kafka_err2name(rd_kafka_event_error(ev)), rd_kafka_event_error_string(ev));
  return ev;
}

static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op) {
  char errstr[256];
  rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
  if (rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, errstr, sizeof errstr)) die("%s", errstr);
  return o;
}

static int topic_results(const rd_kafka_topic_result_t **res, size_t n) {
  printf("{\"error\":");
  json_err(n > 0 ? rd_kafka_topic_result_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL, n > 0 ? rd_kafka_topic_result_error_string(res[0]) : "no result");
  printf("}\n");
  return 0;
}

static int cmd_create_topic(const char *topic, int partitions) {
  char errstr[256];
  rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, base_conf());
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof errstr);
  if (nt == NULL) die("%s", errstr);
  rd_kafka_AdminOptions_t *o = admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_CreateTopics(rk, &nt, 1, o, q);
  rd_kafka_event_t *ev = admin_result(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
  size_t n;
  const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
  topic_results(res, n);
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return 0;
}

static int cmd_delete_topic(const char *topic) {
  rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, base_conf());
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(topic);
  rd_kafka_AdminOptions_t *o = admin_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_DeleteTopics(rk, &dt, 1, o, q);
  rd_kafka_event_t *ev = admin_result(q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
  size_t n;
  const rd_kafka_topic_result_t **res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
  topic_results(res, n);
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_DeleteTopic_destroy(dt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return 0;
}

static int cmd_describe_config(rd_kafka_ResourceType_t type, const char *resource, const char *name) {
  rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, base_conf());
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(type, resource);
  rd_kafka_AdminOptions_t *o = admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
  rd_kafka_DescribeConfigs(rk, &cr, 1, o, q);
  rd_kafka_event_t *ev = admin_result(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
  size_t n, nc;
  const rd_kafka_ConfigResource_t **res = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
  if (n != 1) die("DescribeConfigs: %zu resources in the result", n);
  if (rd_kafka_ConfigResource_error(res[0])) die("DescribeConfigs: %s", rd_kafka_ConfigResource_error_string(res[0]));
  const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res[0], &nc);
  const char *value = NULL;
  int found = 0;
  for (size_t i = 0; i < nc; i++) {
    if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), name) == 0) {
      value = rd_kafka_ConfigEntry_value(entries[i]);
      found = 1;
    }
  }
  if (!found) die("DescribeConfigs: no %s among %zu entries", name, nc);
  printf("{\"value\":");
  json_str(value);
  printf("}\n");
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_ConfigResource_destroy(cr);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return 0;
}

static int cmd_alter_config(rd_kafka_ResourceType_t type, const char *resource, const char *name, const char *value) {
  rd_kafka_t *rk = make(RD_KAFKA_PRODUCER, base_conf());
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(type, resource);
  rd_kafka_error_t *e = rd_kafka_ConfigResource_add_incremental_config(cr, name, RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, value);
  if (e) die("%s", rd_kafka_error_string(e));
  rd_kafka_AdminOptions_t *o = admin_options(rk, RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS);
  rd_kafka_IncrementalAlterConfigs(rk, &cr, 1, o, q);
  rd_kafka_event_t *ev = admin_result(q, RD_KAFKA_EVENT_INCREMENTALALTERCONFIGS_RESULT);
  size_t n;
  const rd_kafka_ConfigResource_t **res = rd_kafka_IncrementalAlterConfigs_result_resources(rd_kafka_event_IncrementalAlterConfigs_result(ev), &n);
  printf("{\"error\":");
  json_err(n == 1 ? rd_kafka_ConfigResource_error(res[0]) : RD_KAFKA_RESP_ERR__FAIL, n == 1 ? rd_kafka_ConfigResource_error_string(res[0]) : "no result");
  printf("}\n");
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_ConfigResource_destroy(cr);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return 0;
}

/* ------------------------------------------------------------------ main */

static int cmd_version(void) {
  char features[512];
  size_t size = sizeof features;
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_get(conf, "builtin.features", features, &size) != RD_KAFKA_CONF_OK) strcpy(features, "?");
  rd_kafka_conf_destroy(conf);
  printf("{\"version\":");
  json_str(rd_kafka_version_str());
  printf(",\"features\":");
  json_str(features);
  printf("}\n");
  return 0;
}

static void usage(void) {
  die("usage: rdkafka_driver -b HOST:PORT [-X prop=value]... [-T timeout_ms] "
      "metadata TOPIC | list-topics | produce TOPIC | consume TOPIC P[,P] OFFSET | group TOPIC GROUP COUNT | member TOPIC GROUP [EVERY] | "
      "offsets TOPIC PARTITION TS... | create-topic TOPIC N | delete-topic TOPIC | describe-config TOPIC NAME | alter-config TOPIC NAME VALUE | "
      "describe-group-config GROUP NAME | alter-group-config GROUP NAME VALUE");
}

int main(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "b:X:T:")) != -1) {
    switch (opt) {
      case 'b': brokers = optarg; break;
      case 'X':
        if (nprops == 64) die("too many -X");
        props[nprops++] = optarg;
        break;
      case 'T': timeout_ms = atoi(optarg); break;
      default: usage();
    }
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  int n = argc - optind;
  char **a = argv + optind;
  if (n == 1 && strcmp(a[0], "version") == 0) return cmd_version();
  if (brokers == NULL || n < 1) usage();
  const char *cmd = a[0];
  if (strcmp(cmd, "metadata") == 0 && n == 2) return cmd_metadata(a[1]);
  if (strcmp(cmd, "list-topics") == 0 && n == 1) return cmd_metadata(NULL);
  if (strcmp(cmd, "produce") == 0 && n == 2) return cmd_produce(a[1]);
  if (strcmp(cmd, "consume") == 0 && n == 4) return cmd_consume(a[1], a[2], a[3]);
  if (strcmp(cmd, "group") == 0 && n == 4) return cmd_group(a[1], a[2], atoi(a[3]));
  if (strcmp(cmd, "member") == 0 && (n == 3 || n == 4)) return cmd_member(a[1], a[2], n == 4 ? atoi(a[3]) : 20);
  if (strcmp(cmd, "offsets") == 0 && n >= 4) return cmd_offsets(a[1], (int32_t)atoi(a[2]), n - 3, a + 3);
  if (strcmp(cmd, "create-topic") == 0 && n == 3) return cmd_create_topic(a[1], atoi(a[2]));
  if (strcmp(cmd, "delete-topic") == 0 && n == 2) return cmd_delete_topic(a[1]);
  if (strcmp(cmd, "describe-config") == 0 && n == 3) return cmd_describe_config(RD_KAFKA_RESOURCE_TOPIC, a[1], a[2]);
  if (strcmp(cmd, "alter-config") == 0 && n == 4) return cmd_alter_config(RD_KAFKA_RESOURCE_TOPIC, a[1], a[2], a[3]);
  if (strcmp(cmd, "describe-group-config") == 0 && n == 3) return cmd_describe_config(RD_KAFKA_RESOURCE_GROUP, a[1], a[2]);
  if (strcmp(cmd, "alter-group-config") == 0 && n == 4) return cmd_alter_config(RD_KAFKA_RESOURCE_GROUP, a[1], a[2], a[3]);
  usage();
  return 1;
}
