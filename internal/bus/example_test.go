package bus_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"esign/internal/bus"
	"esign/internal/bus/inproc"
	"esign/internal/esign"
)

func Example() {
	ctx := context.Background()
	b := inproc.New(inproc.Options{Logger: slog.New(slog.DiscardHandler)})
	defer b.Close()

	// oss serves an RPC queue.
	type getOffer struct {
		ID string `json:"id"`
	}
	_ = b.Serve(ctx, bus.QueueOffer, func(ctx context.Context, req *bus.Request) (any, error) {
		var r getOffer
		if err := req.Decode(&r); err != nil {
			return nil, err
		}
		if r.ID != "o-1" {
			return nil, esign.E("offers.Get", esign.NotFound, "offer not found")
		}
		return map[string]string{"id": r.ID, "state": "open"}, nil
	})

	// css calls it; errors come back typed.
	var offer map[string]string
	err := b.Call(ctx, bus.QueueOffer, "offer.get", getOffer{ID: "o-1"}, &offer)
	fmt.Println(offer["state"], err)
	err = b.Call(ctx, bus.QueueOffer, "offer.get", getOffer{ID: "o-2"}, &offer)
	var e *esign.Error
	fmt.Println(errors.As(err, &e), e.Kind, e.Msg)
	// Output:
	// open <nil>
	// true not_found offer not found
}
