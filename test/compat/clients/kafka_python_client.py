"""kafka-python scenarios (pure Python client). Run with /usr/bin/python3."""
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic  # noqa: E402
from kafka.errors import for_code  # noqa: E402

from compat_common import load_spec, run_tasks, security_steps, text, until  # noqa: E402

logging.basicConfig(level=logging.CRITICAL)
spec = load_spec()
A = spec["bootstrap"]
B = spec["errBootstrap"]
CODECS = {"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}


def enc(s):
    return None if s is None else s.encode("utf-8")


def produce(bootstrap, topic, messages, codec="none", **extra):
    conf = dict(bootstrap_servers=bootstrap, compression_type=CODECS[codec], acks="all", linger_ms=5)
    conf.update(extra)
    p = KafkaProducer(**conf)
    try:
        futures = []
        for m in messages:
            futures.append(p.send(topic, key=enc(m["key"]), value=enc(m["value"]), partition=m["partition"],
                                  headers=[(k, enc(v)) for k, v in m["headers"]], timestamp_ms=m.get("timestamp")))
        for f in futures:
            f.get(timeout=20)
    finally:
        p.close(timeout=5)


def as_dict(rec):
    return {"key": text(rec.key), "value": text(rec.value), "headers": [[k, text(v)] for k, v in (rec.headers or [])]}


def consumer(bootstrap, group=None, **extra):
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest",
                         fetch_max_wait_ms=100, **extra)


def read_assigned(bootstrap, wanted, start=None, **extra):
    """wanted: {(topic, partition): count}; reads each from the beginning (or `start`), no group."""
    c = consumer(bootstrap, **extra)
    tps = [TopicPartition(t, p) for (t, p) in wanted]
    c.assign(tps)
    if start is None:
        c.seek_to_beginning(*tps)
    else:
        for tp in tps:
            c.seek(tp, start)
    got = {tp: [] for tp in wanted}

    def step():
        for tp, recs in c.poll(timeout_ms=200).items():
            got[(tp.topic, tp.partition)].extend(as_dict(r) for r in recs)
        return all(len(got[tp]) >= n for tp, n in wanted.items())

    until(step, 30, "messages %s" % wanted)
    c.close()
    return got


def read_group(bootstrap, topic, group, count):
    c = consumer(bootstrap, group)
    c.subscribe([topic])
    got = []

    def step():
        for recs in c.poll(timeout_ms=200).values():
            got.extend(as_dict(r) for r in recs)
        return len(got) >= count

    until(step, 30, "%d messages in group %s" % (count, group))
    c.commit()
    committed = [{"partition": p, "offset": c.committed(TopicPartition(topic, p))} for p in range(2)]
    c.close()
    return got, committed


def error_of(fn):
    try:
        fn()
    except Exception as err:  # noqa: BLE001
        return "%s: %s" % (type(err).__name__, err)
    return None


def metadata(task):
    admin = KafkaAdminClient(bootstrap_servers=A)
    cluster = admin.describe_cluster()
    topic = admin.describe_topics([task["topic"]])[0]
    admin.close()
    return {
        "brokers": [{"id": b["node_id"], "host": b["host"], "port": b["port"]} for b in cluster["brokers"]],
        "partitions": [{"id": p["partition"], "leader": p["leader"], "error": p["error_code"]} for p in topic["partitions"]],
    }


def create_topic(task):
    admin = KafkaAdminClient(bootstrap_servers=A)
    new = NewTopic(task["topic"], num_partitions=task["partitions"], replication_factor=1)
    admin.create_topics([new])
    partitions = len(admin.describe_topics([task["topic"]])[0]["partitions"])
    dup = error_of(lambda: admin.create_topics([new]))
    admin.close()
    return {"partitions": partitions, "duplicate": dup}


def produce_task(task):
    produce(A, task["topic"], task["messages"], task["codec"])
    return {"read": read_assigned(A, {(task["topic"], 0): len(task["messages"])})[(task["topic"], 0)]}


def consume(task):
    produce(A, task["topic"], task["messages"])
    want = {}
    for m in task["messages"]:
        want[(task["topic"], m["partition"])] = want.get((task["topic"], m["partition"]), 0) + 1
    got = read_assigned(A, want)
    return {"read": {str(p): got[(t, p)] for (t, p) in got}}


def mid_batch(task):
    produce(A, task["topic"], task["messages"], task["codec"], linger_ms=200)
    want = {(task["topic"], 0): len(task["messages"]) - task["offset"]}
    return {"read": read_assigned(A, want, task["offset"])[(task["topic"], 0)]}


def group(task):
    produce(A, task["topic"], task["first"])
    first, _ = read_group(A, task["topic"], task["group"], len(task["first"]))
    produce(A, task["topic"], task["second"])
    second, committed = read_group(A, task["topic"], task["group"], len(task["second"]))
    return {"first": first, "second": second, "committed": committed}


def offsets_time(task):
    produce(A, task["topic"], task["messages"])
    c = consumer(A)
    tp = TopicPartition(task["topic"], 0)
    out = {}
    for name, ts in task["queries"].items():
        found = c.offsets_for_times({tp: ts})[tp]
        out[name] = None if found is None else found.offset
    out["earliest"] = c.beginning_offsets([tp])[tp]
    out["latest"] = c.end_offsets([tp])[tp]
    c.close()
    return out


def delete_topic(task):
    produce(A, task["topic"], task["messages"])
    admin = KafkaAdminClient(bootstrap_servers=A)
    before = task["topic"] in admin.list_topics()
    admin.delete_topics([task["topic"]])
    after = task["topic"] in admin.list_topics()
    admin.close()
    return {"existedBefore": before, "existsAfter": after}


def topic_configs(task):
    admin = KafkaAdminClient(bootstrap_servers=A)

    def describe():
        for response in admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, task["topic"])]):
            for error_code, error_message, _, _, entries in response.resources:
                if error_code != 0:
                    raise RuntimeError("DescribeConfigs error %s: %s" % (error_code, error_message))
                for entry in entries:
                    if entry[0] == task["config"]:
                        return entry[1]
        return None

    before = describe()
    response = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, task["topic"], configs={task["config"]: task["value"]})])
    for error_code, error_message, _, _ in response.resources:
        if error_code != 0:
            raise RuntimeError("AlterConfigs error %s: %s" % (error_code, error_message))
    after = describe()
    admin.close()
    return {"before": before, "after": after}


def unknown_topic(task):
    # kafka-python waits up to max_block_ms for the topic's metadata, then gives up.
    err = error_of(lambda: produce(B, task["topic"], task["messages"], max_block_ms=3000))
    admin = KafkaAdminClient(bootstrap_servers=B)
    md = admin.describe_topics([task["topic"]])[0]
    admin.close()
    return {"error": "produce: %s; metadata: %s" % (err, for_code(md["error_code"]).__name__)}


def security_conf(conn):
    """A security step's connection as kafka-python settings."""
    conf = {"security_protocol": conn["protocol"]}
    if conn.get("ca"):
        conf["ssl_cafile"] = conn["ca"]
    if conn.get("mechanism"):
        conf.update(sasl_mechanism=conn["mechanism"], sasl_plain_username=conn["username"], sasl_plain_password=conn["password"])
    return conf


class Logged(logging.Handler):
    """The client's error log lines while it runs (a failed login is logged; the producer then finds no broker)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.lines = []

    def emit(self, record):
        line = record.getMessage()
        if line not in self.lines:
            self.lines.append(line)


def security(task):
    def round_trip(step):
        conf = security_conf(step["conn"])
        produce(step["conn"]["bootstrap"], step["topic"], step["messages"], **conf)
        return read_assigned(step["conn"]["bootstrap"], {(step["topic"], 0): len(step["messages"])}, **conf)[(step["topic"], 0)]

    def refused(step):
        logged = Logged()
        log = logging.getLogger("kafka")
        log.addHandler(logged)
        log.setLevel(logging.ERROR)
        try:
            err = error_of(lambda: produce(step["conn"]["bootstrap"], step["topic"], step["messages"], max_block_ms=5000, **security_conf(step["conn"])))
        finally:
            log.removeHandler(logged)
            log.setLevel(logging.NOTSET)
        if step["expect"] == "auth-failed":
            # SaslHandshake v0, then PLAIN as a raw token (no SaslAuthenticate): a failed login is a connection the
            # broker closes, as Kafka closes it; the client has no error code to show.
            return {"refused": err is not None, "hidden": "kafka-python 2.0 authenticates with SaslHandshake v0 and raw tokens: "
                    "the broker closes the connection, as Kafka does (no SASL_AUTHENTICATION_FAILED to show); the client reports %s" % err}
        # The producer retries Metadata until max_block_ms without raising the topic's error (kafka-python 2.0
        # skips topic errors when it keeps all topics' metadata); its admin client shows the error.
        admin = KafkaAdminClient(bootstrap_servers=step["conn"]["bootstrap"], **security_conf(step["conn"]))
        try:
            md = admin.describe_topics([step["topic"]])[0]
        finally:
            admin.close()
        return "; ".join([err or "delivered"] + logged.lines[:3] + ["metadata: %s" % for_code(md["error_code"]).__name__])

    return security_steps(task, round_trip, refused)


def too_large(task):
    big = [{"key": "big", "value": "x" * task["largeBytes"], "headers": [], "partition": 0}]
    err = error_of(lambda: produce(B, task["topic"], big, retries=0))
    produce(B, task["topic"], task["messages"])
    return {"error": err, "read": read_assigned(B, {(task["topic"], 0): len(task["messages"])})[(task["topic"], 0)]}


def cross_produce(task):
    for t in task["topics"]:
        produce(A, t["topic"], task["messages"], t["codec"])


def cross_read(task):
    got = read_assigned(A, {(t["topic"], 0): t["count"] for t in task["topics"]})
    return {"topics": {t: msgs for (t, _), msgs in got.items()}}


run_tasks(spec, {
    "metadata": metadata,
    "create-topic": create_topic,
    "produce": produce_task,
    "consume": consume,
    "mid-batch": mid_batch,
    "group": group,
    "offsets-time": offsets_time,
    "delete-topic": delete_topic,
    "topic-configs": topic_configs,
    "security": security,
    "unknown-topic": unknown_topic,
    "too-large": too_large,
    "cross-produce": cross_produce,
    "cross-read": cross_read,
})
