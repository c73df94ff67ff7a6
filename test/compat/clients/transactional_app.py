"""An exactly-once consume-transform-produce app on confluent-kafka-python (librdkafka). Run with /usr/bin/python3.

    transactional_app.py run BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID [--open-after N]
    transactional_app.py read BOOTSTRAP TOPIC ISOLATION EXPECTED

run: init_transactions (fencing any earlier instance with the same transactional id and aborting its open
transaction), then consumes INPUT (read_committed, from the group's committed offsets, earliest without), and for
each batch (sizes cycle through 100-500) begins a transaction, produces every record upper-cased with its input
partition and offset to the same partition of OUTPUT, sends the consumer's positions to the transaction
(send_offsets_to_transaction) and commits it. Prints one JSON line per committed transaction; exits once its
positions reach the end offsets INPUT had at start. With --open-after N: after N commits it consumes the next
batch, produces half of it, flushes, sends the offsets, prints {"open": ...} and sleeps, never committing: the
caller kills it there.

read: a consumer of TOPIC (isolation read_committed or read_uncommitted) from the beginning, until EXPECTED
records have arrived and then 2 s more; prints {"values": [[partition, offset, value], ...]}.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

BATCH_SIZES = (100, 300, 500, 200, 400)


def emit(obj):
    print(json.dumps(obj), flush=True)


def run(bootstrap, input_topic, output_topic, group, transactional_id, open_after):
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 5})
    producer.init_transactions(30)
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": 2000,
        "heartbeat.interval.ms": 500,
        "max.poll.interval.ms": 20000,
        "fetch.wait.max.ms": 100,
    })
    partitions = sorted(consumer.list_topics(input_topic, timeout=10).topics[input_topic].partitions)
    ends = {p: consumer.get_watermark_offsets(TopicPartition(input_topic, p), timeout=10)[1] for p in partitions}
    consumer.subscribe([input_topic])

    def positions():
        assigned = consumer.assignment()
        return [tp for tp in consumer.position(assigned) if tp.offset >= 0] if assigned else []

    committed_at_start = {}

    def done():
        assigned = consumer.assignment()
        if len(assigned) < len(partitions):
            return False
        at = {tp.partition: tp.offset for tp in consumer.position(assigned)}
        # a partition nothing was read from yet has no position: where the group's committed offset is
        for tp in assigned:
            if at[tp.partition] < 0:
                if tp.partition not in committed_at_start:
                    committed_at_start[tp.partition] = max(consumer.committed([tp], timeout=10)[0].offset, 0)
                at[tp.partition] = committed_at_start[tp.partition]
        return all(at[p] >= ends[p] for p in partitions)

    def transform(m):
        return m.value().decode().upper() + "|%d:%d" % (m.partition(), m.offset())

    commits, consumed = 0, 0
    deadline = time.monotonic() + 120
    while not done():
        if time.monotonic() > deadline:
            raise Exception("not done in 120 s")
        size = BATCH_SIZES[commits % len(BATCH_SIZES)]
        msgs = consumer.consume(num_messages=size, timeout=0.5)
        for m in msgs:
            if m.error():
                raise KafkaException(m.error())
        if not msgs:
            continue
        producer.begin_transaction()
        opening = open_after is not None and commits == open_after
        for m in msgs[: len(msgs) // 2] if opening else msgs:
            producer.produce(output_topic, key=m.key(), value=transform(m), partition=m.partition())
        if opening:
            producer.flush(30)
            producer.send_offsets_to_transaction(positions(), consumer.consumer_group_metadata(), 30)
            emit({"open": len(msgs) // 2, "commits": commits, "consumed": consumed})
            time.sleep(600)
            return
        producer.send_offsets_to_transaction(positions(), consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
        commits += 1
        consumed += len(msgs)
        emit({"committed": len(msgs), "commits": commits, "consumed": consumed})
    emit({"done": True, "commits": commits, "consumed": consumed})
    consumer.close()


def read(bootstrap, topic, isolation, expected):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "reader-%s-%s" % (topic, isolation), "enable.auto.commit": False,
                         "isolation.level": isolation, "fetch.wait.max.ms": 100})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    values, quiet_since, deadline = [], None, time.monotonic() + 60
    while time.monotonic() < deadline:
        msgs = consumer.consume(num_messages=1000, timeout=0.25)
        for m in msgs:
            if m.error():
                raise KafkaException(m.error())
            values.append([m.partition(), m.offset(), m.value().decode()])
        if len(values) >= expected:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 2:
                break
    consumer.close()
    emit({"values": values})


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "run":
        open_after = int(args[args.index("--open-after") + 1]) if "--open-after" in args else None
        run(args[0], args[1], args[2], args[3], args[4], open_after)
    elif mode == "read":
        read(args[0], args[1], args[2], int(args[3]))
    else:
        raise SystemExit("unknown mode " + mode)
