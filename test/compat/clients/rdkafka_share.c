/*
 * A share consumer (KIP-932, queues) over librdkafka's C API (2.15's preview
 * rd_kafka_share_* calls), for tests of share groups
 * (test/integration/share-group-librdkafka.test.ts) and as a runnable example
 * (README, "Queues (share groups)"). It joins a share group, consumes a topic
 * and prints each record it is delivered as one JSON line:
 *
 *   {"partition":P,"offset":O,"value":"<hex>","deliveryCount":D,"ack":"accept"|"release"|"reject"|"implicit"}
 *
 *   rdkafka_share -b HOST:PORT -g GROUP -t TOPIC [-a ACK] [-n COUNT] [-i IDLE_MS] [-H] [-X prop=value]...
 *
 *   -a implicit        (default) share.acknowledgement.mode=implicit: each poll accepts the previous batch
 *   -a accept          explicit mode, every record ACCEPTed
 *   -a reject-mod:K    explicit mode, records whose offset is a multiple of K REJECTed, the others ACCEPTed
 *   -a release-first   explicit mode, a record RELEASEd at its first delivery, ACCEPTed at a later one
 *   -a release-always  explicit mode, every record RELEASEd (the broker archives it at its delivery limit)
 *   -n COUNT           stop after COUNT records
 *   -i IDLE_MS         stop after IDLE_MS without a record (once one has come; 30000 by default before)
 *   -H                 hold: print the first batch, then {"held":N} and sleep without acknowledging
 *                      (for a test to kill the process while it holds the records)
 *
 * At the end the consumer is closed (its last acknowledgements are sent, it leaves the group) and
 * {"done":N,"ackErrors":E} is printed; acknowledgement errors the commit callback reports are printed as
 * {"ackError":"<name>","partition":P} lines. Exit status 1 with a {"fatal":...} line on a setup failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

enum ack_rule { ACK_IMPLICIT, ACK_ACCEPT, ACK_REJECT_MOD, ACK_RELEASE_FIRST, ACK_RELEASE_ALWAYS };

static int ack_errors;

static void fatal(const char *what, const char *detail) {
  printf("{\"fatal\":\"%s: %s\"}\n", what, detail);
  fflush(stdout);
  exit(1);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_ack_commit(rd_kafka_share_t *rkshare, rd_kafka_share_partition_offsets_list_t *partitions, rd_kafka_resp_err_t err, void *opaque) {
  (void)rkshare;
  (void)opaque;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  size_t n = rd_kafka_share_partition_offsets_list_count(partitions);
  for (size_t i = 0; i < n; i++) {
    const rd_kafka_share_partition_offsets_t *p = rd_kafka_share_partition_offsets_list_get(partitions, i);
    const rd_kafka_topic_partition_t *tp = rd_kafka_share_partition_offsets_partition(p);
    printf("{\"ackError\":\"%s\",\"partition\":%" PRId32 "}\n", rd_kafka_err2name(err), tp ? tp->partition : -1);
  }
  if (n == 0) printf("{\"ackError\":\"%s\",\"partition\":-1}\n", rd_kafka_err2name(err));
  ack_errors++;
  fflush(stdout);
}

static const char *ack_name(rd_kafka_share_AcknowledgeType_t t) {
  return t == RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_ACCEPT ? "accept" : t == RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_RELEASE ? "release" : "reject";
}

int main(int argc, char **argv) {
  const char *brokers = NULL, *group = NULL, *topic = NULL;
  enum ack_rule rule = ACK_IMPLICIT;
  long mod = 0, max_count = -1, idle_ms = -1;
  int hold = 0;
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  int opt;
  while ((opt = getopt(argc, argv, "b:g:t:a:n:i:HX:")) != -1) {
    switch (opt) {
    case 'b': brokers = optarg; break;
    case 'g': group = optarg; break;
    case 't': topic = optarg; break;
    case 'a':
      if (strcmp(optarg, "implicit") == 0) rule = ACK_IMPLICIT;
      else if (strcmp(optarg, "accept") == 0) rule = ACK_ACCEPT;
      else if (strncmp(optarg, "reject-mod:", 11) == 0) rule = ACK_REJECT_MOD, mod = atol(optarg + 11);
      else if (strcmp(optarg, "release-first") == 0) rule = ACK_RELEASE_FIRST;
      else if (strcmp(optarg, "release-always") == 0) rule = ACK_RELEASE_ALWAYS;
      else fatal("unknown -a", optarg);
      break;
    case 'n': max_count = atol(optarg); break;
    case 'i': idle_ms = atol(optarg); break;
    case 'H': hold = 1; break;
    case 'X': {
      char *eq = strchr(optarg, '=');
      if (!eq) fatal("-X needs prop=value", optarg);
      *eq = '\0';
      if (rd_kafka_conf_set(conf, optarg, eq + 1, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) fatal(optarg, errstr);
      break;
    }
    default: fatal("usage", "rdkafka_share -b HOST:PORT -g GROUP -t TOPIC [-a ACK] [-n COUNT] [-i IDLE_MS] [-H] [-X prop=value]...");
    }
  }
  if (!brokers || !group || !topic) fatal("usage", "-b, -g and -t are required");
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "share.acknowledgement.mode", rule == ACK_IMPLICIT ? "implicit" : "explicit", errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
    fatal("conf", errstr);

  rd_kafka_share_t *rkshare = rd_kafka_share_consumer_new(conf, errstr, sizeof errstr);
  if (!rkshare) fatal("rd_kafka_share_consumer_new", errstr);
  rd_kafka_error_t *error = rd_kafka_share_set_acknowledgement_commit_cb(rkshare, on_ack_commit, NULL);
  if (error) fatal("rd_kafka_share_set_acknowledgement_commit_cb", rd_kafka_error_string(error));
  rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_share_subscribe(rkshare, subs);
  rd_kafka_topic_partition_list_destroy(subs);
  if (err) fatal("rd_kafka_share_subscribe", rd_kafka_err2str(err));

  long count = 0;
  int64_t last = now_ms();
  while (max_count < 0 || count < max_count) {
    rd_kafka_messages_t *batch = NULL;
    error = rd_kafka_share_poll(rkshare, 200, &batch);
    if (error) {
      printf("{\"pollError\":\"%s\"}\n", rd_kafka_error_name(error));
      rd_kafka_error_destroy(error);
    }
    size_t n = rd_kafka_messages_count(batch);
    size_t delivered = 0;
    for (size_t i = 0; i < n; i++) {
      rd_kafka_message_t *m = rd_kafka_messages_get(batch, i);
      if (m->err) {
        printf("{\"recordError\":\"%s\",\"partition\":%" PRId32 ",\"offset\":%" PRId64 "}\n", rd_kafka_err2name(m->err), m->partition, m->offset);
        continue;
      }
      int16_t dc = rd_kafka_message_delivery_count(m);
      const char *ack = "implicit";
      if (rule != ACK_IMPLICIT && !hold) {
        rd_kafka_share_AcknowledgeType_t t = RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_ACCEPT;
        if (rule == ACK_REJECT_MOD && mod > 0 && m->offset % mod == 0) t = RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_REJECT;
        else if (rule == ACK_RELEASE_FIRST && dc <= 1) t = RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_RELEASE;
        else if (rule == ACK_RELEASE_ALWAYS) t = RD_KAFKA_SHARE_ACKNOWLEDGE_TYPE_RELEASE;
        err = rd_kafka_share_acknowledge_type(rkshare, m, t);
        if (err) fatal("rd_kafka_share_acknowledge_type", rd_kafka_err2str(err));
        ack = ack_name(t);
      } else if (hold) {
        ack = "held";
      }
      printf("{\"partition\":%" PRId32 ",\"offset\":%" PRId64 ",\"value\":\"", m->partition, m->offset);
      for (size_t b = 0; b < m->len; b++) printf("%02x", ((const unsigned char *)m->payload)[b]);
      printf("\",\"deliveryCount\":%d,\"ack\":\"%s\"}\n", dc, ack);
      delivered++;
      count++;
    }
    fflush(stdout);
    rd_kafka_messages_destroy(batch);
    if (delivered > 0) {
      last = now_ms();
      if (hold) {
        printf("{\"held\":%zu}\n", delivered);
        fflush(stdout);
        for (;;) pause();
      }
    } else if (now_ms() - last > (count > 0 && idle_ms >= 0 ? idle_ms : 30000)) {
      break;
    }
  }

  error = rd_kafka_share_consumer_close(rkshare);
  if (error) {
    printf("{\"closeError\":\"%s\"}\n", rd_kafka_error_name(error));
    rd_kafka_error_destroy(error);
  }
  printf("{\"done\":%ld,\"ackErrors\":%d}\n", count, ack_errors);
  fflush(stdout);
  rd_kafka_share_destroy(rkshare);
  return 0;
}
