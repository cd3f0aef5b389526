//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// jsonqMain prints values from a JSON file: jsonq FILE PATH... where PATH is
// slash-separated keys and array indexes ("runs/0/exit_code"); "len" after
// an array prints its length. Strings print bare, other values as JSON.
func jsonqMain() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		fmt.Fprintln(os.Stderr, "jsonq:", err)
		os.Exit(2)
	}
	for _, path := range os.Args[2:] {
		v := doc
		for _, part := range strings.Split(path, "/") {
			switch node := v.(type) {
			case map[string]any:
				v = node[part]
			case []any:
				if part == "len" {
					v = float64(len(node))
					continue
				}
				i, err := strconv.Atoi(part)
				if err != nil || i < 0 || i >= len(node) {
					fmt.Fprintf(os.Stderr, "jsonq: %s: no element %s\n", path, part)
					os.Exit(1)
				}
				v = node[i]
			default:
				fmt.Fprintf(os.Stderr, "jsonq: %s: no %s\n", path, part)
				os.Exit(1)
			}
		}
		if s, ok := v.(string); ok {
			fmt.Printf("%s=%s\n", path, s)
			continue
		}
		out, _ := json.Marshal(v)
		fmt.Printf("%s=%s\n", path, out)
	}
}
