"""confluent-kafka-python (librdkafka) scenarios. Run with /usr/bin/python3."""
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402

from compat_common import load_spec, rdkafka_security, run_tasks, security_steps, text, until  # noqa: E402

spec = load_spec()
A = spec["bootstrap"]
B = spec["errBootstrap"]


def produce(bootstrap, topic, messages, codec="none", wait_linger=False, **extra):
    conf = {"bootstrap.servers": bootstrap, "compression.type": codec, "acks": "all", "linger.ms": 5, "message.timeout.ms": 10000}
    conf.update(extra)
    p = Producer(conf)
    errors = []

    def delivered(err, msg):
        if err is not None:
            errors.append(err)

    for m in messages:
        kwargs = {"key": m["key"], "value": m["value"], "partition": m["partition"], "on_delivery": delivered}
        if m["headers"]:
            kwargs["headers"] = [(k, v) for k, v in m["headers"]]
        if "timestamp" in m:
            kwargs["timestamp"] = m["timestamp"]
        p.produce(topic, **kwargs)
    if wait_linger:
        # flush() makes queued messages sendable at once (linger.ms no longer
        # applies), so on a slow machine they left one by one: poll instead until the
        # lingered batch is delivered, so that the messages share one batch.
        deadline = time.monotonic() + 30
        while len(p) > 0 and time.monotonic() < deadline:
            p.poll(0.05)
    left = p.flush(20)
    if errors:
        raise KafkaException(errors[0])
    if left:
        raise RuntimeError("%d messages not delivered" % left)


def as_dict(msg):
    return {"key": text(msg.key()), "value": text(msg.value()), "headers": [[k, text(v)] for k, v in (msg.headers() or [])]}


def consumer(bootstrap, group=None, **extra):
    # librdkafka needs a group.id to build a consumer; assign() with explicit
    # offsets never joins that group nor fetches its offsets.
    conf = {"bootstrap.servers": bootstrap, "group.id": group or "compat-unused-" + uuid.uuid4().hex, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "fetch.wait.max.ms": 100}
    conf.update(extra)
    return Consumer(conf)


def read_assigned(bootstrap, wanted, start=OFFSET_BEGINNING, **extra):
    """wanted: {(topic, partition): count}; reads each from `start` without a group."""
    c = consumer(bootstrap, **extra)
    c.assign([TopicPartition(t, p, start) for (t, p) in wanted])
    got = {tp: [] for tp in wanted}

    def step():
        msg = c.poll(0.2)
        if msg is not None:
            if msg.error():
                raise KafkaException(msg.error())
            got[(msg.topic(), msg.partition())].append(as_dict(msg))
        return all(len(got[tp]) >= n for tp, n in wanted.items())

    until(step, 30, "messages %s" % wanted)
    c.close()
    return got


def read_group(bootstrap, topic, group, count):
    c = consumer(bootstrap, group)
    c.subscribe([topic])
    got = []

    def step():
        msg = c.poll(0.2)
        if msg is not None:
            if msg.error():
                raise KafkaException(msg.error())
            got.append(as_dict(msg))
        return len(got) >= count

    until(step, 30, "%d messages in group %s" % (count, group))
    c.commit(asynchronous=False)
    committed = c.committed([TopicPartition(topic, p) for p in range(2)], timeout=10)
    c.close()
    return got, [{"partition": tp.partition, "offset": tp.offset} for tp in committed]


def error_of(fn):
    try:
        fn()
    except KafkaException as err:
        e = err.args[0]
        return "%s: %s" % (e.name(), e.str())
    except Exception as err:  # noqa: BLE001
        return "%s: %s" % (type(err).__name__, err)
    return None


def metadata(task):
    md = AdminClient({"bootstrap.servers": A}).list_topics(topic=task["topic"], timeout=10)
    parts = md.topics[task["topic"]].partitions
    return {
        "brokers": [{"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()],
        "partitions": [{"id": p.id, "leader": p.leader, "error": p.error.code() if p.error else 0} for p in parts.values()],
    }


def create_topic(task):
    admin = AdminClient({"bootstrap.servers": A})
    new = NewTopic(task["topic"], num_partitions=task["partitions"], replication_factor=1)
    admin.create_topics([new])[task["topic"]].result(10)
    parts = admin.list_topics(topic=task["topic"], timeout=10).topics[task["topic"]].partitions
    dup = error_of(lambda: admin.create_topics([new])[task["topic"]].result(10))
    return {"partitions": len(parts), "duplicate": dup}


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
    # One batch whatever the machine's speed: librdkafka sends a partition's batch once it
    # holds batch.num.messages messages (or linger.ms after its first): with exactly the
    # number of messages and a long linger, it leaves when the last one is queued.
    one_batch = {"batch.num.messages": len(task["messages"]), "linger.ms": 15000, "message.timeout.ms": 30000}
    produce(A, task["topic"], task["messages"], task["codec"], wait_linger=True, **one_batch)
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
    out = {}
    for name, ts in task["queries"].items():
        out[name] = c.offsets_for_times([TopicPartition(task["topic"], 0, ts)], timeout=10)[0].offset
    out["earliest"], out["latest"] = c.get_watermark_offsets(TopicPartition(task["topic"], 0), timeout=10)
    c.close()
    return out


def delete_topic(task):
    produce(A, task["topic"], task["messages"])
    admin = AdminClient({"bootstrap.servers": A})
    before = task["topic"] in admin.list_topics(timeout=10).topics
    admin.delete_topics([task["topic"]])[task["topic"]].result(10)
    after = task["topic"] in admin.list_topics(timeout=10).topics
    return {"existedBefore": before, "existsAfter": after}


def idempotent(task):
    produce(A, task["topic"], task["messages"], **{"enable.idempotence": True})
    return {"read": read_assigned(A, {(task["topic"], 0): len(task["messages"])})[(task["topic"], 0)]}


def transactions(task):
    p = Producer({"bootstrap.servers": A, "transactional.id": task["transactionalId"], "linger.ms": 5})
    p.init_transactions(30)
    for t in task["transactions"]:
        p.begin_transaction()
        for m in t["messages"]:
            p.produce(task["topic"], key=m["key"], value=m["value"], partition=m["partition"], headers=[(k, v) for k, v in m["headers"]] or None)
        p.flush(30)  # the messages reach the broker (an aborted transaction has data to abort)
        if t["commit"]:
            p.commit_transaction(30)
        else:
            p.abort_transaction(30)
    committed = sum(len(t["messages"]) for t in task["transactions"] if t["commit"])
    tp = (task["topic"], 0)
    return {"read": read_assigned(A, {tp: committed}, **{"isolation.level": "read_committed"})[tp]}


def topic_configs(task):
    admin = AdminClient({"bootstrap.servers": A})

    def describe():
        futures = admin.describe_configs([ConfigResource("topic", task["topic"])])
        entries = list(futures.values())[0].result(10)
        return entries[task["config"]].value

    before = describe()
    futures = admin.alter_configs([ConfigResource("topic", task["topic"], set_config={task["config"]: task["value"]})])
    list(futures.values())[0].result(10)
    return {"before": before, "after": describe()}


def unknown_topic(task):
    # librdkafka fails queued messages once the topic has stayed unknown this long.
    err = error_of(lambda: produce(B, task["topic"], task["messages"], **{"topic.metadata.propagation.max.ms": 1000}))
    md = AdminClient({"bootstrap.servers": B}).list_topics(topic=task["topic"], timeout=10).topics[task["topic"]]
    return {"error": "produce: %s; metadata: %s" % (err, md.error.name() if md.error else "no error")}


def too_large(task):
    big = [{"key": "big", "value": "x" * task["largeBytes"], "headers": [], "partition": 0}]
    err = error_of(lambda: produce(B, task["topic"], big))
    produce(B, task["topic"], task["messages"])
    return {"error": err, "read": read_assigned(B, {(task["topic"], 0): len(task["messages"])})[(task["topic"], 0)]}


def security(task):
    def round_trip(step):
        props = rdkafka_security(step["conn"])
        produce(step["conn"]["bootstrap"], step["topic"], step["messages"], **props)
        return read_assigned(step["conn"]["bootstrap"], {(step["topic"], 0): len(step["messages"])}, **props)[(step["topic"], 0)]

    def refused(step):
        # A failed login reaches the error callback; the messages then time out.
        raised = []
        props = dict(rdkafka_security(step["conn"]), **{"message.timeout.ms": 5000, "error_cb": lambda e: raised.append("%s: %s" % (e.name(), e.str()))})
        err = error_of(lambda: produce(step["conn"]["bootstrap"], step["topic"], step["messages"], **props))
        return "; ".join(raised + [err or "delivered"])

    return security_steps(task, round_trip, refused)


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
    "idempotent": idempotent,
    "transactions": transactions,
    "topic-configs": topic_configs,
    "security": security,
    "unknown-topic": unknown_topic,
    "too-large": too_large,
    "cross-produce": cross_produce,
    "cross-read": cross_read,
})
