package policy

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

func TestDefaultRetry(t *testing.T) {
	r := DefaultRetry()
	if err := r.Validate(); err != nil {
		t.Fatalf("DefaultRetry().Validate() = %v", err)
	}
	want := Retry{Attempts: 4, Base: time.Millisecond, Max: 25 * time.Millisecond, Jitter: 0.5}
	if r != want {
		t.Errorf("DefaultRetry() = %+v, want %+v", r, want)
	}
	if got := Default().Retry; got != want {
		t.Errorf("Default().Retry = %+v, want %+v", got, want)
	}
}

func TestRetryDelay(t *testing.T) {
	const ms = time.Millisecond
	def := DefaultRetry()
	huge := Retry{Attempts: 2, Base: math.MaxInt64, Max: math.MaxInt64, Jitter: 1}
	tests := []struct {
		name    string
		r       Retry
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{"first", def, 1, 0, 1 * ms},
		{"second", def, 2, 0, 2 * ms},
		{"third", def, 3, 0, 4 * ms},
		{"fifth", def, 5, 0, 16 * ms},
		{"capped", def, 6, 0, 25 * ms},
		{"far beyond", def, 1000, 0, 25 * ms},
		{"max int attempt", def, math.MaxInt, 0, 25 * ms},
		{"jitter half of half", def, 1, 0.5, 750 * time.Microsecond},
		{"jitter on the cap", def, 7, 0.2, 22500 * time.Microsecond},
		{"no jitter", Retry{Base: ms, Max: 8 * ms}, 3, 0.9, 4 * ms},
		{"full jitter", Retry{Base: 4 * ms, Max: 8 * ms, Jitter: 1}, 1, 0.25, 3 * ms},
		{"zero attempt counts as first", def, 0, 0, 1 * ms},
		{"negative attempt counts as first", def, -7, 0, 1 * ms},
		{"NaN rnd is 0", def, 2, math.NaN(), 2 * ms},
		{"negative rnd is 0", def, 2, -3, 2 * ms},
		{"rnd above 1 is 1", def, 2, 5, 1 * ms},
		{"NaN jitter is 0", Retry{Base: ms, Max: ms, Jitter: math.NaN()}, 1, 0.9, 1 * ms},
		{"jitter above 1 is 1", Retry{Base: 2 * ms, Max: 2 * ms, Jitter: 3}, 1, 0.5, 1 * ms},
		{"negative jitter is 0", Retry{Base: 2 * ms, Max: 2 * ms, Jitter: -1}, 1, 0.5, 2 * ms},
		{"negative base is 0", Retry{Base: -ms, Max: 8 * ms}, 3, 0, 0},
		{"zero base far beyond", Retry{Max: 8 * ms}, 200, 0, 0},
		{"negative max is 0", Retry{Base: ms, Max: -ms}, 3, 0, 0},
		{"base above max is capped", Retry{Base: 9 * ms, Max: 5 * ms}, 1, 0, 5 * ms},
		{"no overflow", huge, 2, 0, math.MaxInt64},
		{"no overflow far beyond", huge, 64, 0, math.MaxInt64},
		{"no overflow with jitter", huge, 64, 0.5, math.MaxInt64 / 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.r.Delay(tt.attempt, tt.rnd)
			// Jitter goes through float64; allow its rounding on huge values.
			if diff := got - tt.want; diff < -1024 || diff > 1024 {
				t.Errorf("%+v.Delay(%d, %v) = %v, want %v", tt.r, tt.attempt, tt.rnd, got, tt.want)
			}
		})
	}
}

func TestRetryDelayBounds(t *testing.T) {
	budgets := []Retry{
		DefaultRetry(),
		{Attempts: 10, Base: 3 * time.Millisecond, Max: time.Second, Jitter: 1},
		{Attempts: 1, Base: math.MaxInt64, Max: math.MaxInt64, Jitter: 0.999},
		{Base: -time.Second, Max: -time.Millisecond, Jitter: math.Inf(1)},
		{Base: time.Second, Max: time.Millisecond, Jitter: math.NaN()},
	}
	rnds := []float64{math.NaN(), math.Inf(-1), -1, 0, 0.3, 0.999999, 1, 2, math.Inf(1)}
	for _, r := range budgets {
		for _, rnd := range rnds {
			prev := time.Duration(-1)
			for attempt := -2; attempt < 130; attempt++ {
				d := r.Delay(attempt, rnd)
				if d < 0 || d > max(r.Max, 0) {
					t.Fatalf("%+v.Delay(%d, %v) = %v, outside [0, %v]", r, attempt, rnd, d, max(r.Max, 0))
				}
				if d < prev {
					t.Fatalf("%+v.Delay(%d, %v) = %v, shorter than the attempt before (%v)", r, attempt, rnd, d, prev)
				}
				prev = d
			}
		}
	}
}

func TestRetryAllows(t *testing.T) {
	tests := []struct {
		attempts, attempt int
		want              bool
	}{
		{4, 1, true},
		{4, 3, true},
		{4, 4, false},
		{4, 9, false},
		{1, 1, false},
		{0, 0, false},
		{-1, -5, false},
	}
	for _, tt := range tests {
		if got := (Retry{Attempts: tt.attempts}).Allows(tt.attempt); got != tt.want {
			t.Errorf("Retry{Attempts: %d}.Allows(%d) = %v, want %v", tt.attempts, tt.attempt, got, tt.want)
		}
	}

	// A loop shaped like the shim's makes exactly Attempts tries.
	for _, attempts := range []int{1, 2, 4} {
		r := Retry{Attempts: attempts}
		tries := 1
		for attempt := 1; r.Allows(attempt); attempt++ {
			tries++
		}
		if tries != attempts {
			t.Errorf("Attempts %d: %d tries", attempts, tries)
		}
	}
}

func TestRetryValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Retry
		ok   bool
	}{
		{"default", DefaultRetry(), true},
		{"one try, no delay", Retry{Attempts: 1}, true},
		{"full jitter", Retry{Attempts: 2, Base: 1, Max: 1, Jitter: 1}, true},
		{"zero attempts", Retry{Attempts: 0, Base: 1, Max: 2}, false},
		{"negative attempts", Retry{Attempts: -1}, false},
		{"negative base", Retry{Attempts: 1, Base: -1, Max: 1}, false},
		{"max below base", Retry{Attempts: 1, Base: 2, Max: 1}, false},
		{"negative max", Retry{Attempts: 1, Max: -1}, false},
		{"negative jitter", Retry{Attempts: 1, Jitter: -0.1}, false},
		{"jitter above 1", Retry{Attempts: 1, Jitter: 1.5}, false},
		{"NaN jitter", Retry{Attempts: 1, Jitter: math.NaN()}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("%+v.Validate() = %v, want ok %v", tt.r, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidRetry) {
				t.Errorf("%+v.Validate() = %v, does not wrap ErrInvalidRetry", tt.r, err)
			}
		})
	}
}

// The delays of the default budget for a loop that makes its 4 tries, with
// rnd 0 (no jitter) and rnd 0.5 (a quarter off, since Jitter is 0.5).
func ExampleRetry_Delay() {
	r := DefaultRetry()
	for attempt := 1; r.Allows(attempt); attempt++ {
		fmt.Println(attempt, r.Delay(attempt, 0), r.Delay(attempt, 0.5))
	}
	// Output:
	// 1 1ms 750µs
	// 2 2ms 1.5ms
	// 3 4ms 3ms
}
