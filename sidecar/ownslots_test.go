package sidecar

import "testing"

func TestSlotSetFirstClearFrom(t *testing.T) {
	var s slotSet
	for _, i := range []int{0, 1, 2, 63, 64, 65, 127} {
		s[i/64] |= 1 << (i % 64)
	}
	for _, c := range []struct{ from, want int }{
		{0, 3}, {3, 3}, {4, 4}, {62, 62}, {63, 66}, {64, 66}, {126, 126}, {127, MaxSlots},
	} {
		if got := s.firstClearFrom(c.from); got != c.want {
			t.Errorf("firstClearFrom(%d) = %d, want %d", c.from, got, c.want)
		}
	}
	full := slotSet{^uint64(0), ^uint64(0)}
	if got := full.firstClearFrom(0); got != MaxSlots {
		t.Errorf("full set: %d, want %d", got, MaxSlots)
	}
}
