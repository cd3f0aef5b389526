//go:build !race

package main

// raceBuild is true when the tests (and so the graphsignal they run, the
// test binary itself) are built with -race, which makes every step
// several times slower.
const raceBuild = false
