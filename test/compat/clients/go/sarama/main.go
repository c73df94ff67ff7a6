// Sarama scenarios. `sarama default` keeps sarama's default protocol version
// (V0_8_2_0: Produce v0 with magic 0 messages, Fetch v0, Metadata v0, no
// consumer groups); `sarama 2.1` runs at V2_1_0_0 (record batches, headers,
// zstd, consumer groups, idempotence).
package main

import (
	"bytes"
	"context"
	"fmt"
	"io/ioutil"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
	"gregorcompat/common"
)

var version = sarama.NewConfig().Version // the library default: V0_8_2_0

var codecs = map[string]sarama.CompressionCodec{
	"none": sarama.CompressionNone, "gzip": sarama.CompressionGZIP, "snappy": sarama.CompressionSnappy,
	"lz4": sarama.CompressionLZ4, "zstd": sarama.CompressionZSTD,
}

// secure is the connection of the security step running (nil: PLAINTEXT): TLS with its CA, SASL PLAIN.
var secure *common.Conn

func config() *sarama.Config {
	c := sarama.NewConfig()
	if secure != nil {
		if secure.CA != "" {
			tlsConfig, err := common.TLSConfig(secure.CA)
			if err != nil {
				panic(err)
			}
			c.Net.TLS.Enable = true
			c.Net.TLS.Config = tlsConfig
		}
		if secure.Mechanism != "" {
			c.Net.SASL.Enable = true
			c.Net.SASL.Mechanism = sarama.SASLMechanism(secure.Mechanism)
			c.Net.SASL.User = secure.Username
			c.Net.SASL.Password = secure.Password
		}
	}
	c.Version = version
	c.ClientID = "compat-sarama"
	c.Metadata.Retry.Max = 2
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Producer.Return.Successes = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Retry.Max = 1
	c.Producer.Retry.Backoff = 100 * time.Millisecond
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.MaxWaitTime = 100 * time.Millisecond
	return c
}

func produce(addr, topic string, msgs []common.Msg, codec string, tweak func(*sarama.Config)) error {
	c := config()
	c.Producer.Compression = codecs[codec]
	if tweak != nil {
		tweak(c)
	}
	p, err := sarama.NewSyncProducer([]string{addr}, c)
	if err != nil {
		return err
	}
	defer p.Close()
	batch := make([]*sarama.ProducerMessage, 0, len(msgs))
	for _, m := range msgs {
		pm := &sarama.ProducerMessage{Topic: topic, Partition: m.Partition, Key: sarama.StringEncoder(m.Key), Value: sarama.StringEncoder(m.Value)}
		for _, h := range m.Headers {
			pm.Headers = append(pm.Headers, sarama.RecordHeader{Key: []byte(h[0]), Value: []byte(h[1])})
		}
		if m.Timestamp != nil {
			pm.Timestamp = time.Unix(0, *m.Timestamp*int64(time.Millisecond))
		}
		batch = append(batch, pm)
	}
	if err := p.SendMessages(batch); err != nil {
		if errs, ok := err.(sarama.ProducerErrors); ok && len(errs) > 0 {
			return errs[0].Err
		}
		return err
	}
	return nil
}

func toRead(m *sarama.ConsumerMessage) common.Read {
	r := common.Read{Key: common.Str(m.Key), Value: common.Str(m.Value), Headers: [][2]string{}}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, [2]string{string(h.Key), string(h.Value)})
	}
	return r
}

type want struct {
	topic     string
	partition int32
	offset    int64
	count     int
}

// readPartitions reads each partition from its offset, no group.
func readPartitions(addr string, wanted []want) (map[string][]common.Read, error) {
	consumer, err := sarama.NewConsumer([]string{addr}, config())
	if err != nil {
		return nil, err
	}
	defer consumer.Close()
	out := map[string][]common.Read{}
	for _, w := range wanted {
		pc, err := consumer.ConsumePartition(w.topic, w.partition, w.offset)
		if err != nil {
			return nil, fmt.Errorf("%s/%d: %v", w.topic, w.partition, err)
		}
		key := fmt.Sprintf("%s/%d", w.topic, w.partition)
		out[key] = []common.Read{}
		for len(out[key]) < w.count {
			select {
			case m := <-pc.Messages():
				out[key] = append(out[key], toRead(m))
			case e := <-pc.Errors():
				pc.Close()
				return nil, e
			case <-time.After(20 * time.Second):
				pc.Close()
				return nil, fmt.Errorf("%s: read %d of %d messages", key, len(out[key]), w.count)
			}
		}
		pc.Close()
	}
	return out, nil
}

func readOne(addr, topic string, count int) ([]common.Read, error) {
	got, err := readPartitions(addr, []want{{topic, 0, sarama.OffsetOldest, count}})
	if err != nil {
		return nil, err
	}
	return got[topic+"/0"], nil
}

type groupHandler struct {
	mu    sync.Mutex
	got   []common.Read
	count int
	done  chan struct{}
	once  sync.Once
}

func (h *groupHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *groupHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *groupHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.mu.Lock()
		h.got = append(h.got, toRead(m))
		n := len(h.got)
		h.mu.Unlock()
		sess.MarkMessage(m, "")
		if n >= h.count {
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}

// readGroup joins the group (V2_1_0_0), reads count messages, marks them and
// closes: sarama commits the marked offsets when the session ends.
func readGroup(addr, topic, group string, count int) ([]common.Read, error) {
	g, err := sarama.NewConsumerGroup([]string{addr}, group, config())
	if err != nil {
		return nil, err
	}
	h := &groupHandler{count: count, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil {
				errc <- err
				return
			}
		}
	}()
	select {
	case <-h.done:
	case err := <-errc:
		cancel()
		g.Close()
		return nil, err
	case <-time.After(30 * time.Second):
		cancel()
		g.Close()
		return nil, fmt.Errorf("group %s: read %d of %d messages", group, len(h.got), count)
	}
	cancel()
	if err := g.Close(); err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got, nil
}

// readCommitted is the 0.8.2 way: no group membership; the offset manager
// fetches the committed offsets (OffsetFetch v1) and commits (OffsetCommit v1).
func readCommitted(addr, topic, group string, counts map[int32]int) ([]common.Read, error) {
	client, err := sarama.NewClient([]string{addr}, config())
	if err != nil {
		return nil, err
	}
	defer client.Close()
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		return nil, err
	}
	var all []common.Read
	for p := int32(0); p < 2; p++ {
		pom, err := om.ManagePartition(topic, p)
		if err != nil {
			return nil, err
		}
		next, _ := pom.NextOffset()
		got, err := readPartitions(addr, []want{{topic, p, next, counts[p]}})
		if err != nil {
			return nil, err
		}
		all = append(all, got[fmt.Sprintf("%s/%d", topic, p)]...)
		if next < 0 {
			next, err = client.GetOffset(topic, p, sarama.OffsetOldest)
			if err != nil {
				return nil, err
			}
		}
		pom.MarkOffset(next+int64(counts[p]), "")
		pom.Close()
	}
	return all, om.Close()
}

func errorText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "2.1" {
		version = sarama.V2_1_0_0
	}
	spec := common.LoadSpec()
	A, B := spec.Bootstrap, spec.ErrBootstrap
	admin := func() (sarama.ClusterAdmin, error) { return sarama.NewClusterAdmin([]string{A}, config()) }

	common.RunTasks(spec, map[string]common.Handler{
		"metadata": func(t common.Task) (common.Out, error) {
			client, err := sarama.NewClient([]string{A}, config())
			if err != nil {
				return nil, err
			}
			defer client.Close()
			if err := client.RefreshMetadata(t.Topic); err != nil {
				return nil, err
			}
			var brokers []common.Out
			for _, b := range client.Brokers() {
				i := strings.LastIndex(b.Addr(), ":")
				var port int
				fmt.Sscanf(b.Addr()[i+1:], "%d", &port)
				brokers = append(brokers, common.Out{"id": b.ID(), "host": b.Addr()[:i], "port": port})
			}
			parts, err := client.Partitions(t.Topic)
			if err != nil {
				return nil, err
			}
			var partitions []common.Out
			for _, p := range parts {
				leader, err := client.Leader(t.Topic, p)
				if err != nil {
					return nil, err
				}
				partitions = append(partitions, common.Out{"id": p, "leader": leader.ID(), "error": 0})
			}
			return common.Out{"brokers": brokers, "partitions": partitions}, nil
		},
		"create-topic": func(t common.Task) (common.Out, error) {
			a, err := admin()
			if err != nil {
				return nil, err
			}
			defer a.Close()
			detail := &sarama.TopicDetail{NumPartitions: int32(t.Partitions), ReplicationFactor: 1}
			if err := a.CreateTopic(t.Topic, detail, false); err != nil {
				return nil, err
			}
			md, err := a.DescribeTopics([]string{t.Topic})
			if err != nil {
				return nil, err
			}
			dup := a.CreateTopic(t.Topic, detail, false)
			return common.Out{"partitions": len(md[0].Partitions), "duplicate": errorText(dup)}, nil
		},
		"produce": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.Messages, t.Codec, nil); err != nil {
				return nil, err
			}
			got, err := readOne(A, t.Topic, len(t.Messages))
			return common.Out{"read": got}, err
		},
		"consume": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.Messages, "none", nil); err != nil {
				return nil, err
			}
			counts := common.CountByPartition(t.Messages)
			var ws []want
			for p := int32(0); p < int32(t.Partitions); p++ {
				ws = append(ws, want{t.Topic, p, sarama.OffsetOldest, counts[p]})
			}
			got, err := readPartitions(A, ws)
			if err != nil {
				return nil, err
			}
			read := common.Out{}
			for p := 0; p < t.Partitions; p++ {
				read[fmt.Sprint(p)] = got[fmt.Sprintf("%s/%d", t.Topic, p)]
			}
			return common.Out{"read": read}, nil
		},
		"mid-batch": func(t common.Task) (common.Out, error) {
			oneBatch := func(c *sarama.Config) {
				c.Producer.Flush.Messages = len(t.Messages)
				c.Producer.Flush.Frequency = time.Second
			}
			if err := produce(A, t.Topic, t.Messages, t.Codec, oneBatch); err != nil {
				return nil, err
			}
			got, err := readPartitions(A, []want{{t.Topic, 0, int64(t.Offset), len(t.Messages) - t.Offset}})
			return common.Out{"read": got[t.Topic+"/0"]}, err
		},
		"group": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.First, "none", nil); err != nil {
				return nil, err
			}
			read := func(msgs []common.Msg) ([]common.Read, error) {
				if version.IsAtLeast(sarama.V0_10_2_0) {
					return readGroup(A, t.Topic, t.Group, len(msgs))
				}
				return readCommitted(A, t.Topic, t.Group, common.CountByPartition(msgs))
			}
			first, err := read(t.First)
			if err != nil {
				return nil, err
			}
			if err := produce(A, t.Topic, t.Second, "none", nil); err != nil {
				return nil, err
			}
			second, err := read(t.Second)
			if err != nil {
				return nil, err
			}
			out := common.Out{"first": first, "second": second}
			if !version.IsAtLeast(sarama.V0_10_2_0) {
				out["note"] = "0.8.2 has no group membership: offset manager only (OffsetCommit/OffsetFetch v1)"
			}
			return out, nil
		},
		"offsets-time": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.Messages, "none", nil); err != nil {
				return nil, err
			}
			client, err := sarama.NewClient([]string{A}, config())
			if err != nil {
				return nil, err
			}
			defer client.Close()
			out := common.Out{}
			for name, ts := range t.Queries {
				if out[name], err = client.GetOffset(t.Topic, 0, ts); err != nil {
					return nil, err
				}
			}
			if out["earliest"], err = client.GetOffset(t.Topic, 0, sarama.OffsetOldest); err != nil {
				return nil, err
			}
			out["latest"], err = client.GetOffset(t.Topic, 0, sarama.OffsetNewest)
			return out, err
		},
		"delete-topic": func(t common.Task) (common.Out, error) {
			if err := produce(A, t.Topic, t.Messages, "none", nil); err != nil {
				return nil, err
			}
			// ClusterAdmin.ListTopics also sends DescribeConfigs: list with Metadata only.
			client, err := sarama.NewClient([]string{A}, config())
			if err != nil {
				return nil, err
			}
			defer client.Close()
			listed := func() (bool, error) {
				if err := client.RefreshMetadata(); err != nil {
					return false, err
				}
				topics, err := client.Topics()
				for _, name := range topics {
					if name == t.Topic {
						return true, err
					}
				}
				return false, err
			}
			before, err := listed()
			if err != nil {
				return nil, err
			}
			a, err := admin()
			if err != nil {
				return nil, err
			}
			defer a.Close()
			if err := a.DeleteTopic(t.Topic); err != nil {
				return nil, err
			}
			after, err := listed()
			return common.Out{"existedBefore": before, "existsAfter": after}, err
		},
		"idempotent": func(t common.Task) (common.Out, error) {
			err := produce(A, t.Topic, t.Messages, "none", func(c *sarama.Config) {
				c.Producer.Idempotent = true
				c.Net.MaxOpenRequests = 1
			})
			if err != nil {
				return nil, err
			}
			got, err := readOne(A, t.Topic, len(t.Messages))
			return common.Out{"read": got}, err
		},
		"topic-configs": func(t common.Task) (common.Out, error) {
			a, err := admin()
			if err != nil {
				return nil, err
			}
			defer a.Close()
			describe := func() (interface{}, error) {
				entries, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: t.Topic, ConfigNames: []string{t.Config}})
				if err != nil {
					return nil, err
				}
				for _, e := range entries {
					if e.Name == t.Config {
						return e.Value, nil
					}
				}
				return nil, nil
			}
			before, err := describe()
			if err != nil {
				return nil, err
			}
			value := t.Value
			if err := a.AlterConfig(sarama.TopicResource, t.Topic, map[string]*string{t.Config: &value}, false); err != nil {
				return nil, err
			}
			after, err := describe()
			return common.Out{"before": before, "after": after}, err
		},
		"security": func(t common.Task) (common.Out, error) {
			defer func() { secure = nil }()
			return common.SecuritySteps(t, func(s common.Step) ([]common.Read, error) {
				secure = &s.Conn
				if err := produce(s.Conn.Bootstrap, s.Topic, s.Messages, "none", nil); err != nil {
					return nil, err
				}
				return readOne(s.Conn.Bootstrap, s.Topic, len(s.Messages))
			}, func(s common.Step) common.Out {
				secure = &s.Conn
				// sarama tells the caller it ran out of brokers; why is in its log
				var logged bytes.Buffer
				sarama.Logger = log.New(&logged, "", 0)
				defer func() { sarama.Logger = log.New(ioutil.Discard, "", 0) }()
				err := produce(s.Conn.Bootstrap, s.Topic, s.Messages, "none", func(c *sarama.Config) { c.Metadata.Retry.Max = 0 })
				if s.Expect == "auth-failed" && !version.IsAtLeast(sarama.V1_0_0_0) {
					return common.Out{"refused": err != nil, "hidden": fmt.Sprintf("sarama below Version 1.0 authenticates with SaslHandshake v0 and a raw PLAIN token: "+
						"the broker closes the connection, as Kafka does (no SASL_AUTHENTICATION_FAILED to show); the client reports %v", err)}
				}
				lines := []string{fmt.Sprint(err)}
				for _, l := range strings.Split(logged.String(), "\n") {
					if strings.Contains(l, "SASL") && len(lines) < 3 {
						lines = append(lines, l)
					}
				}
				return common.Out{"error": strings.Join(lines, "; ")}
			})
		},
		"unknown-topic": func(t common.Task) (common.Out, error) {
			err := produce(B, t.Topic, t.Messages, "none", nil)
			return common.Out{"error": common.ErrText(err)}, nil
		},
		"too-large": func(t common.Task) (common.Out, error) {
			big := []common.Msg{{Key: "big", Value: strings.Repeat("x", t.LargeBytes)}}
			bigErr := produce(B, t.Topic, big, "none", func(c *sarama.Config) { c.Producer.Retry.Max = 0 })
			if err := produce(B, t.Topic, t.Messages, "none", nil); err != nil {
				return nil, err
			}
			got, err := readOne(B, t.Topic, len(t.Messages))
			return common.Out{"error": common.ErrText(bigErr), "read": got}, err
		},
		"cross-produce": func(t common.Task) (common.Out, error) {
			for _, tc := range t.Topics {
				if err := produce(A, tc.Topic, t.Messages, tc.Codec, nil); err != nil {
					return nil, fmt.Errorf("%s: %v", tc.Topic, err)
				}
			}
			return nil, nil
		},
		"cross-read": func(t common.Task) (common.Out, error) {
			topics := common.Out{}
			for _, tc := range t.Topics {
				got, err := readOne(A, tc.Topic, tc.Count)
				if err != nil {
					return nil, err
				}
				topics[tc.Topic] = got
			}
			return common.Out{"topics": topics}, nil
		},
	})
}
