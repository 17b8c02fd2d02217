// Package metrics computes the success metrics of the README's Metrics section from
// collected posture data, restore tests and incidents. Every function is pure:
// inputs in, metrics out, no I/O and no clock (times come from arguments).
// A metric whose inputs were not collected is unknown with a reason, never 0.
package metrics
