/*
 * A librdkafka producer for the record-errors test (built with gcc at test time into a temporary directory;
 * the binary is never committed): produces COUNT messages to partition 0 of TOPIC with rd_kafka_produce_batch,
 * every KEYLESS_EVERY-th one (index 0, N, 2N, ...) without a key, and prints what librdkafka reports for each.
 *
 *   produce-batch BOOTSTRAP TOPIC COUNT KEYLESS_EVERY MODE     MODE: "batch" (one batch of them all) or
 *                                                             "single" (one message per batch)
 *
 * Output, one line each: "version <librdkafka version>", then per delivery report
 * "dr <index>\t<error name or NO_ERROR>", then "done <reports>". Only error codes: librdkafka 2.4 to 2.15
 * point a message's rd_kafka_message_produce_errstr at the record error of a Produce response that is freed
 * before the delivery report runs (rd_kafka_msgbatch_handle_Produce_result_record_errors sets it from the
 * response, the report gets a copy the message does not point to), so those strings are not read here; the
 * record errors' text is checked on the wire instead.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

static int reports = 0;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        printf("dr %ld\t%s\n", (long)(intptr_t)m->_private, m->err ? rd_kafka_err2name(m->err) : "NO_ERROR");
        reports++;
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
        char errstr[512];
        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s: %s\n", name, errstr);
                exit(2);
        }
}

int main(int argc, char **argv) {
        if (argc != 6) {
                fprintf(stderr, "usage: %s BOOTSTRAP TOPIC COUNT KEYLESS_EVERY batch|single\n", argv[0]);
                return 2;
        }
        const char *topic = argv[2];
        int count = atoi(argv[3]);
        int every = atoi(argv[4]);
        int single = strcmp(argv[5], "single") == 0;
        printf("version %s\n", rd_kafka_version_str());

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[512];
        set(conf, "bootstrap.servers", argv[1]);
        set(conf, "linger.ms", "200");
        set(conf, "batch.num.messages", single ? "1" : "10000");
        set(conf, "max.in.flight", "1");
        set(conf, "message.timeout.ms", "20000");
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);

        rd_kafka_message_t *msgs = calloc((size_t)count, sizeof(*msgs));
        char (*keys)[16] = calloc((size_t)count, sizeof(*keys));
        char (*values)[16] = calloc((size_t)count, sizeof(*values));
        for (int i = 0; i < count; i++) {
                snprintf(keys[i], sizeof(keys[i]), "k%d", i);
                snprintf(values[i], sizeof(values[i]), "v%d", i);
                msgs[i].payload = values[i];
                msgs[i].len = strlen(values[i]);
                if (i % every != 0) {
                        msgs[i].key = keys[i];
                        msgs[i].key_len = strlen(keys[i]);
                }
                msgs[i]._private = (void *)(intptr_t)i;
        }
        int queued = rd_kafka_produce_batch(rkt, 0, RD_KAFKA_MSG_F_COPY, msgs, count);
        if (queued != count) {
                fprintf(stderr, "rd_kafka_produce_batch queued %d of %d\n", queued, count);
                return 1;
        }
        rd_kafka_flush(rk, 30000);
        while (reports < count && rd_kafka_outq_len(rk) > 0) rd_kafka_poll(rk, 100);
        printf("done %d\n", reports);
        fflush(stdout);
        free(msgs);
        free(keys);
        free(values);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return 0;
}
