package policy

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrInvalidRetry is wrapped by the errors of [Retry.Validate].
var ErrInvalidRetry = errors.New("invalid retry budget")

// Retry is the budget for retrying a transient fault: how many tries in
// all, and an exponential backoff between them with jitter, so that
// processes that failed together do not retry together.
type Retry struct {
	Attempts int           // tries in all, the first included; at least 1
	Base     time.Duration // the delay before the second try, before jitter
	Max      time.Duration // the cap on any delay, before jitter
	Jitter   float64       // in [0,1]: the largest fraction taken off a delay
}

// DefaultRetry returns the default budget: 4 tries, delays from 1ms
// doubling up to 25ms, each shortened by up to half at random. The whole
// budget stays under the few tens of milliseconds that a writer's busy
// handler would wait anyway.
func DefaultRetry() Retry {
	return Retry{Attempts: 4, Base: time.Millisecond, Max: 25 * time.Millisecond, Jitter: 0.5}
}

// Allows reports whether another try may follow the given number of tries
// already made: attempt < r.Attempts, with an attempt below 1 counted as
// 1 as in Delay. A loop that made its first try asks Allows(1) before the
// second.
func (r Retry) Allows(attempt int) bool { return max(attempt, 1) < r.Attempts }

// Delay returns how long to wait after the given number of tries (1 is the
// delay before the second try): Base·2^(attempt-1), capped at Max, then
// scaled by 1 − Jitter·rnd. The caller supplies rnd, uniform in [0,1), so
// that Delay stays a pure function.
//
// Out-of-range inputs are clamped rather than trusted: an attempt below 1
// counts as 1, a negative Base or Max as 0, a Jitter or rnd outside [0,1]
// (or NaN) to the nearest bound (NaN to 0). Delay never panics, never
// overflows and never returns a negative duration or one above max(Max, 0).
func (r Retry) Delay(attempt int, rnd float64) time.Duration {
	base, ceiling := max(r.Base, 0), max(r.Max, 0)
	attempt = max(attempt, 1)

	d := ceiling
	if shift := attempt - 1; base == 0 || shift < 63 && base <= ceiling>>shift {
		d = base << min(shift, 62) // base<<shift ≤ ceiling: no overflow
	}
	factor := 1 - clampUnit(r.Jitter)*clampUnit(rnd)
	if f := float64(d) * factor; f < float64(d) {
		// A factor below 1 keeps f below 2⁶³, so the conversion is exact
		// enough and cannot overflow.
		return max(time.Duration(f), 0)
	}
	return d
}

// clampUnit clamps x to [0,1], with NaN as 0.
func clampUnit(x float64) float64 {
	if math.IsNaN(x) || x < 0 {
		return 0
	}
	return min(x, 1)
}

// Validate reports the first field out of range, wrapping
// [ErrInvalidRetry].
func (r Retry) Validate() error {
	switch {
	case r.Attempts < 1:
		return fmt.Errorf("%w: attempts %d, want at least 1", ErrInvalidRetry, r.Attempts)
	case r.Base < 0:
		return fmt.Errorf("%w: negative base delay %v", ErrInvalidRetry, r.Base)
	case r.Max < r.Base:
		return fmt.Errorf("%w: max delay %v below base delay %v", ErrInvalidRetry, r.Max, r.Base)
	case math.IsNaN(r.Jitter) || r.Jitter < 0 || r.Jitter > 1:
		return fmt.Errorf("%w: jitter %v outside [0,1]", ErrInvalidRetry, r.Jitter)
	}
	return nil
}
