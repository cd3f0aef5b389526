// Command goclient shows the graphsignal Go client: it traces a fake
// "generate" call with its payloads and token usage, and scores it.
//
// Run it under graphsignal to record it:
//
//	graphsignal run -- go run ./examples/goclient
//
// Run directly, GRAPHSIGNAL_SOCKET is absent and every call is a no-op.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/pkg/graphsignal"
)

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// generate stands in for a call to a language model.
func generate(ctx context.Context, prompt string) (string, error) {
	span := graphsignal.Trace(ctx, "generate", map[string]string{"model_type": "chat", "model": "fake-1"})
	defer span.End()
	span.SetAttribute("temperature", 0.2)
	input := []message{{Role: "user", Content: prompt}}
	span.SetPayload("input", map[string]any{"messages": input}, map[string]float64{"token_count": float64(len(strings.Fields(prompt)))})

	select {
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
		span.AddException(ctx.Err())
		return "", ctx.Err()
	}
	answer := "Hello! " + strings.ToUpper(prompt)
	span.SetPayload("output", map[string]any{"choices": []message{{Role: "assistant", Content: answer}}},
		map[string]float64{"token_count": float64(len(strings.Fields(answer)))})
	span.Score("answer_length_ok", 1, graphsignal.WithComment("within limits"))
	return answer, nil
}

func run(ctx context.Context) error {
	graphsignal.SetContextTag("user_id", "example-user")
	var answer string
	err := graphsignal.Func(ctx, "handle_request", func(ctx context.Context) error {
		var err error
		answer, err = generate(ctx, "say hi")
		return err
	})
	if err != nil {
		return fmt.Errorf("handle request: %w", err)
	}
	fmt.Println(answer)
	graphsignal.Score("user_feedback", 1, graphsignal.WithComment("thumbs up"))
	return nil
}

func main() {
	ctx := context.Background()
	err := run(ctx)
	closeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if cerr := graphsignal.Close(closeCtx); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
		fmt.Fprintln(os.Stderr, "graphsignal:", cerr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
