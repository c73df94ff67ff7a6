/*
 * librdkafka's admin ACL calls against a broker, for the ACL client test (built with gcc at test time into a
 * temporary directory; the binary is never committed): CreateAcls of four bindings (the last one invalid, a
 * CLUSTER resource not named kafka-cluster), DescribeAcls of every TOPIC and GROUP ACL, DescribeAcls with a
 * MATCH filter for the topic "orders-eu", DeleteAcls of User:alice's ACLs, then DescribeAcls of everything.
 *
 *   acl-admin BOOTSTRAP
 *
 * Output, one line each: "version <librdkafka version>"; per creation "create <i> <error name>";
 * per ACL described "<step> <ResourceType> <name> <PatternType> <principal> <host> <Operation> <Permission>"
 * with step "described", "matched", "deleted" or "left"; a failed call "error <step> <error name> <text>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

static rd_kafka_t *rk;
static rd_kafka_queue_t *queue;

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
        char errstr[512];
        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s: %s\n", name, errstr);
                exit(2);
        }
}

/* Waits for the result event of one admin call (10 s at most). */
static rd_kafka_event_t *await_result(const char *step) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, 10000);
        if (!ev) {
                printf("error %s TIMED_OUT no result\n", step);
                exit(1);
        }
        if (rd_kafka_event_error(ev)) {
                printf("error %s %s %s\n", step, rd_kafka_err2name(rd_kafka_event_error(ev)), rd_kafka_event_error_string(ev));
                exit(1);
        }
        return ev;
}

static void print_acl(const char *step, const rd_kafka_AclBinding_t *acl) {
        printf("%s %s %s %s %s %s %s %s\n", step, rd_kafka_ResourceType_name(rd_kafka_AclBinding_restype(acl)), rd_kafka_AclBinding_name(acl),
               rd_kafka_ResourcePatternType_name(rd_kafka_AclBinding_resource_pattern_type(acl)), rd_kafka_AclBinding_principal(acl),
               rd_kafka_AclBinding_host(acl), rd_kafka_AclOperation_name(rd_kafka_AclBinding_operation(acl)),
               rd_kafka_AclPermissionType_name(rd_kafka_AclBinding_permission_type(acl)));
}

static void describe(const char *step, rd_kafka_AclBindingFilter_t *filter) {
        rd_kafka_DescribeAcls(rk, filter, NULL, queue);
        rd_kafka_event_t *ev = await_result(step);
        size_t cnt = 0;
        const rd_kafka_AclBinding_t **acls = rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) print_acl(step, acls[i]);
        rd_kafka_event_destroy(ev);
        rd_kafka_AclBinding_destroy(filter);
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: %s BOOTSTRAP\n", argv[0]);
                return 2;
        }
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%s\n", errstr);
                return 2;
        }
        queue = rd_kafka_queue_new(rk);
        printf("version %s\n", rd_kafka_version_str());

        rd_kafka_AclBinding_t *acls[4] = {
            rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_TOPIC, "orders", RD_KAFKA_RESOURCE_PATTERN_LITERAL, "User:alice", "*", RD_KAFKA_ACL_OPERATION_READ,
                                    RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof(errstr)),
            rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_GROUP, "app-", RD_KAFKA_RESOURCE_PATTERN_PREFIXED, "User:alice", "*", RD_KAFKA_ACL_OPERATION_READ,
                                    RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof(errstr)),
            rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_TOPIC, "orders", RD_KAFKA_RESOURCE_PATTERN_PREFIXED, "User:bob", "10.0.0.1", RD_KAFKA_ACL_OPERATION_WRITE,
                                    RD_KAFKA_ACL_PERMISSION_TYPE_DENY, errstr, sizeof(errstr)),
            rd_kafka_AclBinding_new(RD_KAFKA_RESOURCE_BROKER, "other", RD_KAFKA_RESOURCE_PATTERN_LITERAL, "User:alice", "*", RD_KAFKA_ACL_OPERATION_ALTER,
                                    RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, errstr, sizeof(errstr)),
        };
        for (int i = 0; i < 4; i++) {
                if (!acls[i]) {
                        fprintf(stderr, "binding %d: %s\n", i, errstr);
                        return 2;
                }
        }
        rd_kafka_CreateAcls(rk, acls, 4, NULL, queue);
        rd_kafka_event_t *ev = await_result("create");
        size_t cnt = 0;
        const rd_kafka_acl_result_t **results = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
                const rd_kafka_error_t *error = rd_kafka_acl_result_error(results[i]);
                printf("create %zu %s\n", i, error ? rd_kafka_error_name(error) : "NO_ERROR");
        }
        rd_kafka_event_destroy(ev);
        rd_kafka_AclBinding_destroy_array(acls, 4);

        describe("described", rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL, RD_KAFKA_ACL_OPERATION_ANY,
                                                            RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr)));
        describe("matched", rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_TOPIC, "orders-eu", RD_KAFKA_RESOURCE_PATTERN_MATCH, NULL, NULL, RD_KAFKA_ACL_OPERATION_ANY,
                                                          RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr)));

        rd_kafka_AclBindingFilter_t *filters[1] = {rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, "User:alice", NULL,
                                                                                 RD_KAFKA_ACL_OPERATION_ANY, RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr))};
        rd_kafka_DeleteAcls(rk, filters, 1, NULL, queue);
        ev = await_result("delete");
        const rd_kafka_DeleteAcls_result_response_t **responses = rd_kafka_DeleteAcls_result_responses(rd_kafka_event_DeleteAcls_result(ev), &cnt);
        for (size_t i = 0; i < cnt; i++) {
                const rd_kafka_error_t *error = rd_kafka_DeleteAcls_result_response_error(responses[i]);
                if (error) printf("error delete %s %s\n", rd_kafka_error_name(error), rd_kafka_error_string(error));
                size_t matching = 0;
                const rd_kafka_AclBinding_t **deleted = rd_kafka_DeleteAcls_result_response_matching_acls(responses[i], &matching);
                for (size_t j = 0; j < matching; j++) print_acl("deleted", deleted[j]);
        }
        rd_kafka_event_destroy(ev);
        rd_kafka_AclBinding_destroy_array(filters, 1);

        describe("left", rd_kafka_AclBindingFilter_new(RD_KAFKA_RESOURCE_ANY, NULL, RD_KAFKA_RESOURCE_PATTERN_ANY, NULL, NULL, RD_KAFKA_ACL_OPERATION_ANY,
                                                       RD_KAFKA_ACL_PERMISSION_TYPE_ANY, errstr, sizeof(errstr)));
        rd_kafka_queue_destroy(queue);
        rd_kafka_destroy(rk);
        return 0;
}
