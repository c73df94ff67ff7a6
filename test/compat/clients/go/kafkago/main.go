// segmentio/kafka-go 0.2 scenarios: Produce v2 and Fetch v2 with magic 1
// message sets, ListOffsets v1, Metadata v1, CreateTopics v0, DeleteTopics v1,
// consumer groups through its Reader; no record headers, zstd or idempotence.
package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/gzip"
	"github.com/segmentio/kafka-go/lz4"
	"github.com/segmentio/kafka-go/snappy"
	"gregorcompat/common"
)

var codecs = map[string]kafka.CompressionCodec{
	"gzip": gzip.NewCompressionCodec(), "snappy": snappy.NewCompressionCodec(), "lz4": lz4.NewCompressionCodec(),
}

// dialer is the TLS dialer of the security step running (nil: plaintext, kafka-go's default dialer).
var dialer *kafka.Dialer

func dialLeader(ctx context.Context, addr, topic string, partition int) (*kafka.Conn, error) {
	if dialer != nil {
		return dialer.DialLeader(ctx, "tcp", addr, topic, partition)
	}
	return kafka.DialLeader(ctx, "tcp", addr, topic, partition)
}

func timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 20*time.Second)
}

// produce writes each partition's messages with one request on a leader connection.
func produce(addr, topic string, msgs []common.Msg, codec string) error {
	byPartition := map[int32][]kafka.Message{}
	var order []int32
	for _, m := range msgs {
		km := kafka.Message{Key: []byte(m.Key), Value: []byte(m.Value)}
		if m.Timestamp != nil {
			km.Time = time.Unix(0, *m.Timestamp*int64(time.Millisecond))
		}
		if _, ok := byPartition[m.Partition]; !ok {
			order = append(order, m.Partition)
		}
		byPartition[m.Partition] = append(byPartition[m.Partition], km)
	}
	for _, p := range order {
		ctx, cancel := timeout()
		conn, err := dialLeader(ctx, addr, topic, int(p))
		cancel()
		if err != nil {
			return err
		}
		conn.SetRequiredAcks(-1)
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		if codec == "none" || codec == "" {
			_, err = conn.WriteMessages(byPartition[p]...)
		} else {
			_, err = conn.WriteCompressedMessages(codecs[codec], byPartition[p]...)
		}
		conn.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func toRead(m kafka.Message) common.Read {
	return common.Read{Key: common.Str(m.Key), Value: common.Str(m.Value), Headers: [][2]string{}}
}

// readPartition reads count messages from the start of a partition, no group.
func readPartition(addr, topic string, partition, count int) ([]common.Read, error) {
	return readFrom(addr, topic, partition, kafka.FirstOffset, count)
}

// readFrom reads count messages of a partition from offset, no group.
func readFrom(addr, topic string, partition int, offset int64, count int) ([]common.Read, error) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: topic, Partition: partition, MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 100 * time.Millisecond, Dialer: dialer})
	defer r.Close()
	if err := r.SetOffset(offset); err != nil {
		return nil, err
	}
	got := []common.Read{}
	for len(got) < count {
		ctx, cancel := timeout()
		m, err := r.ReadMessage(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s/%d after %d messages: %v", topic, partition, len(got), err)
		}
		got = append(got, toRead(m))
	}
	return got, nil
}

// readGroup joins the group, reads count messages, commits them synchronously, leaves.
func readGroup(addr, topic, group string, count int) ([]common.Read, error) {
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: group, Topic: topic, MinBytes: 1, MaxBytes: 10 << 20,
		MaxWait: 100 * time.Millisecond, HeartbeatInterval: time.Second, SessionTimeout: 10 * time.Second})
	got := []common.Read{}
	for len(got) < count {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		m, err := r.FetchMessage(ctx)
		if err == nil {
			err = r.CommitMessages(ctx, m)
		}
		cancel()
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("group %s after %d messages: %v", group, len(got), err)
		}
		got = append(got, toRead(m))
	}
	return got, r.Close()
}

func listTopics(addr string) (map[string]bool, error) {
	conn, err := kafka.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions() // all topics: naming one would auto-create it (Metadata v1)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, p := range parts {
		out[p.Topic] = true
	}
	return out, nil
}

func main() {
	spec := common.LoadSpec()
	A, B := spec.Bootstrap, spec.ErrBootstrap

	common.RunTasks(spec, map[string]common.Handler{
		"metadata": func(t common.Task) (common.Out, error) {
			conn, err := kafka.Dial("tcp", A)
			if err != nil {
				return nil, err
			}
			defer conn.Close()
			parts, err := conn.ReadPartitions(t.Topic)
			if err != nil {
				return nil, err
			}
			brokers := map[int]common.Out{}
			var partitions []common.Out
			for _, p := range parts {
				for _, b := range append(append([]kafka.Broker{p.Leader}, p.Replicas...), p.Isr...) {
					brokers[b.ID] = common.Out{"id": b.ID, "host": b.Host, "port": b.Port}
				}
				partitions = append(partitions, common.Out{"id": p.ID, "leader": p.Leader.ID, "error": 0})
			}
			var bl []common.Out
			for _, b := range brokers {
				bl = append(bl, b)
			}
			return common.Out{"brokers": bl, "partitions": partitions}, nil
		},
		"create-topic": func(t common.Task) (common.Out, error) {
			conn, err := kafka.Dial("tcp", A)
			if err != nil {
				return nil, err
			}
			defer conn.Close()
			cfg := kafka.TopicConfig{Topic: t.Topic, NumPartitions: t.Partitions, ReplicationFactor: 1}
			if err := conn.CreateTopics(cfg); err != nil {
				return nil, err
			}
			parts, err := conn.ReadPartitions(t.Topic)
			if err != nil {
				return nil, err
			}
			// kafka-go's CreateTopics maps TOPIC_ALREADY_EXISTS to success.
			dup := conn.CreateTopics(cfg)
			return common.Out{"partitions": len(parts), "duplicate": common.ErrText(dup), "duplicateHidden": dup == nil}, nil
		},
		"produce": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.Messages, t.Codec); err != nil {
				return nil, err
			}
			got, err := readPartition(A, t.Topic, 0, len(t.Messages))
			return common.Out{"read": got}, err
		},
		"consume": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.Messages, "none"); err != nil {
				return nil, err
			}
			counts := common.CountByPartition(t.Messages)
			read := common.Out{}
			for p := 0; p < t.Partitions; p++ {
				got, err := readPartition(A, t.Topic, p, counts[int32(p)])
				if err != nil {
					return nil, err
				}
				read[fmt.Sprint(p)] = got
			}
			return common.Out{"read": read}, nil
		},
		"mid-batch": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.Messages, t.Codec); err != nil {
				return nil, err
			}
			got, err := readFrom(A, t.Topic, 0, int64(t.Offset), len(t.Messages)-t.Offset)
			return common.Out{"read": got}, err
		},
		"group": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.First, "none"); err != nil {
				return nil, err
			}
			first, err := readGroup(A, t.Topic, t.Group, len(t.First))
			if err != nil {
				return nil, err
			}
			if err := produce(A, t.Topic, t.Second, "none"); err != nil {
				return nil, err
			}
			second, err := readGroup(A, t.Topic, t.Group, len(t.Second))
			return common.Out{"first": first, "second": second}, err
		},
		"offsets-time": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.Messages, "none"); err != nil {
				return nil, err
			}
			ctx, cancel := timeout()
			defer cancel()
			conn, err := kafka.DialLeader(ctx, "tcp", A, t.Topic, 0)
			if err != nil {
				return nil, err
			}
			defer conn.Close()
			out := common.Out{}
			for name, ts := range t.Queries {
				if out[name], err = conn.ReadOffset(time.Unix(0, ts*int64(time.Millisecond))); err != nil {
					return nil, err
				}
			}
			if out["earliest"], err = conn.ReadFirstOffset(); err != nil {
				return nil, err
			}
			out["latest"], err = conn.ReadLastOffset()
			return out, err
		},
		"delete-topic": func(t common.Task) (common.Out, error) {
			// kafka-go 0.2 cannot list all topics (it sends an empty topic array) and
			// naming the topic in Metadata v1 would re-create it: deleting it a second
			// time tells whether it is gone.
			if err := produce(A, t.Topic, t.Messages, "none"); err != nil {
				return nil, err
			}
			conn, err := kafka.Dial("tcp", A)
			if err != nil {
				return nil, err
			}
			defer conn.Close()
			if err := conn.DeleteTopics(t.Topic); err != nil {
				return nil, err
			}
			again := conn.DeleteTopics(t.Topic)
			return common.Out{"existedBefore": true, "existsAfter": again != kafka.UnknownTopicOrPartition, "secondDelete": common.ErrText(again),
				"note": fmt.Sprintf("existence after the delete judged by a second DeleteTopics: %v", again)}, nil
		},
		"security": func(t common.Task) (common.Out, error) {
			defer func() { dialer = nil }()
			return common.SecuritySteps(t, func(s common.Step) ([]common.Read, error) {
				tlsConfig, err := common.TLSConfig(s.Conn.CA)
				if err != nil {
					return nil, err
				}
				// kafka-go 0.2 leaves the name to verify to the caller: the host clients connect to
				if tlsConfig.ServerName, _, err = net.SplitHostPort(s.Conn.Bootstrap); err != nil {
					return nil, err
				}
				dialer = &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: tlsConfig}
				if err := produce(s.Conn.Bootstrap, s.Topic, s.Messages, "none"); err != nil {
					return nil, err
				}
				return readPartition(s.Conn.Bootstrap, s.Topic, 0, len(s.Messages))
			}, func(s common.Step) common.Out {
				return common.Out{"error": "kafka-go 0.2 has no SASL"}
			})
		},
		"unknown-topic": func(t common.Task) (common.Out, error) {
			// DialLeader would wait for the topic until its deadline (its metadata
			// loop ignores topic errors): talk to the partition directly instead.
			nc, err := net.DialTimeout("tcp", B, 5*time.Second)
			if err != nil {
				return nil, err
			}
			conn := kafka.NewConn(nc, t.Topic, 0)
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, mdErr := conn.ReadPartitions(t.Topic)
			_, produceErr := conn.WriteMessages(kafka.Message{Key: []byte(t.Messages[0].Key), Value: []byte(t.Messages[0].Value)})
			return common.Out{"error": fmt.Sprintf("metadata: %v; produce: %v", mdErr, produceErr)}, nil
		},
		"too-large": func(t common.Task) (common.Out, error) {
			bigErr := produce(B, t.Topic, []common.Msg{{Key: "big", Value: strings.Repeat("x", t.LargeBytes)}}, "none")
			if err := produce(B, t.Topic, t.Messages, "none"); err != nil {
				return nil, err
			}
			got, err := readPartition(B, t.Topic, 0, len(t.Messages))
			return common.Out{"error": common.ErrText(bigErr), "read": got}, err
		},
		"cross-produce": func(t common.Task) (common.Out, error) {
			for _, tc := range t.Topics {
				if err := produce(A, tc.Topic, t.Messages, tc.Codec); err != nil {
					return nil, fmt.Errorf("%s: %v", tc.Topic, err)
				}
			}
			return nil, nil
		},
		"cross-read": func(t common.Task) (common.Out, error) {
			topics := common.Out{}
			for _, tc := range t.Topics {
				got, err := readPartition(A, tc.Topic, 0, tc.Count)
				if err != nil {
					return nil, err
				}
				topics[tc.Topic] = got
			}
			return common.Out{"topics": topics}, nil
		},
	})
}
