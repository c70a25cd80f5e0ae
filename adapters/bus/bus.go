package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/stratahq/strata/domain"
	"github.com/stratahq/strata/runner"
)

// DefaultTopic is the topic dispatches travel on.
const DefaultTopic = "strata.executions.dispatch"

// Config configures a Queue. Zero values take their defaults.
type Config struct {
	// Topic dispatches are published and consumed on; default DefaultTopic.
	Topic string
	// RetryAfter is how long a dispatch whose handler failed waits before it is delivered
	// again; default 1s.
	RetryAfter time.Duration
	// Logger reports what Consume cannot return (a malformed message, a failed handler);
	// default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Queue is a runner.Queue over a watermill publisher and subscriber. It subscribes when
// it is opened, so nothing published after Open is missed by a later Consume.
type Queue struct {
	cfg    Config
	pub    message.Publisher
	sub    message.Subscriber
	msgs   <-chan *message.Message
	cancel context.CancelFunc // ends the subscription
	closed sync.Once
}

var _ runner.Queue = (*Queue)(nil)

// ErrMalformed: a message on the topic is not a dispatch; it is acknowledged and dropped.
var ErrMalformed = fmt.Errorf("bus: malformed dispatch: %w", domain.ErrInvalid)

// Open subscribes to cfg.Topic on sub and returns a Queue publishing on pub. ctx bounds
// the subscription (with Close); Close closes pub and sub.
func Open(ctx context.Context, cfg Config, pub message.Publisher, sub message.Subscriber) (*Queue, error) {
	cfg = cfg.withDefaults()
	sctx, cancel := context.WithCancel(ctx)
	msgs, err := sub.Subscribe(sctx, cfg.Topic)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("subscribe to %s: %w", cfg.Topic, err)
	}
	return &Queue{cfg: cfg, pub: pub, sub: sub, msgs: msgs, cancel: cancel}, nil
}

// OpenGoChannel returns a Queue over an in-process watermill GoChannel: dispatches reach
// the Consume calls of this process only, and those in flight are lost when it ends (the
// runner.Dispatcher publishes them again on its next start).
func OpenGoChannel(ctx context.Context, cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults()
	// Watermill's own info messages (subscribed, closed) are debug detail here.
	wl := watermill.NewSlogLoggerWithLevelMapping(cfg.Logger.With("component", "watermill"), map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	ch := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 64}, wl)
	q, err := Open(ctx, cfg, ch, ch)
	if err != nil {
		return nil, errors.Join(err, ch.Close())
	}
	return q, nil
}

// Publish sends d as one message, JSON-encoded.
func (q *Queue) Publish(ctx context.Context, d runner.Dispatch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("publish dispatch of %s: %w", d.Execution, err)
	}
	msg := message.NewMessage(watermill.NewUUID(), b)
	msg.Metadata.Set("execution", string(d.Execution))
	if err := q.pub.Publish(q.cfg.Topic, msg); err != nil {
		return fmt.Errorf("publish dispatch of %s: %w", d.Execution, err)
	}
	return nil
}

// Consume calls handle for each message until ctx ends or the subscription closes. A nil
// result acknowledges the message; an error is logged and the message negatively
// acknowledged after RetryAfter, so it is delivered again. A malformed message is
// acknowledged and dropped.
func (q *Queue) Consume(ctx context.Context, handle func(context.Context, runner.Dispatch) error) error {
	for {
		var msg *message.Message
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case msg, ok = <-q.msgs:
			if !ok {
				if err := ctx.Err(); err != nil {
					return err
				}
				return nil
			}
		}
		var d runner.Dispatch
		if err := json.Unmarshal(msg.Payload, &d); err != nil || d.Execution == "" {
			q.cfg.Logger.Warn("bus: dropped a message", "uuid", msg.UUID, "err", errors.Join(ErrMalformed, err))
			msg.Ack()
			continue
		}
		if err := handle(ctx, d); err != nil {
			q.cfg.Logger.Warn("bus: dispatch failed; it will be delivered again", "execution", d.Execution, "err", err)
			t := time.NewTimer(q.cfg.RetryAfter)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			msg.Nack()
			continue
		}
		msg.Ack()
	}
}

// Close ends the subscription and closes the publisher and subscriber.
func (q *Queue) Close() error {
	var err error
	q.closed.Do(func() {
		q.cancel()
		err = q.pub.Close()
		if any(q.sub) != any(q.pub) {
			err = errors.Join(err, q.sub.Close())
		}
		if err != nil {
			err = fmt.Errorf("close bus: %w", err)
		}
	})
	return err
}
