package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// MethodPing is the method served by ServePing.
const MethodPing = "ping"

// Pong is the reply to a ping.
type Pong struct {
	Queue string    `json:"queue"`
	Time  time.Time `json:"time"`
}

// ServePing serves the ping method on queue (QueueCSSPing, QueueCronPing)
// until ctx is done.
func ServePing(ctx context.Context, b Bus, queue string) error {
	return b.Serve(ctx, queue, func(ctx context.Context, req *Request) (any, error) {
		return Pong{Queue: queue, Time: time.Now().UTC()}, nil
	})
}

// Ping calls the ping method on queue; nil means a server answered before
// ctx's deadline. It is meant for /readyz checks (give ctx a short deadline).
func Ping(ctx context.Context, b Bus, queue string) error {
	var p Pong
	return b.Call(ctx, queue, MethodPing, nil, &p)
}

// PingAll pings every queue concurrently and returns nil when all answered,
// or the errors joined, each naming its queue. oss's /readyz uses it with
// QueueCSSPing and QueueCronPing and a deadline of a second or two.
func PingAll(ctx context.Context, b Bus, queues ...string) error {
	errs := make([]error, len(queues))
	var wg sync.WaitGroup
	for i, q := range queues {
		wg.Go(func() {
			if err := Ping(ctx, b, q); err != nil {
				errs[i] = fmt.Errorf("%s: %w", q, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
