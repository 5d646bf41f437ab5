package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// stressProgress shows how a run is going: a line rewritten in place on a
// terminal, a plain line every five seconds otherwise, nothing with -json.
type stressProgress struct {
	w        io.Writer
	terminal bool
	quiet    bool
	last     time.Duration
	shown    bool
}

func newStressProgress(w io.Writer, quiet bool) *stressProgress {
	p := &stressProgress{w: w, quiet: quiet}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *stressProgress) update(elapsed time.Duration, r *stressReport) {
	if p.quiet {
		return
	}
	line := fmt.Sprintf("%5.1fs  workers alive %d  acked %d  commits %d  failed txns %d  faults %d  kills %d  overlaps %d",
		elapsed.Seconds(), r.WorkersAlive, r.Acked, r.Commits, r.FailedTxns, r.FaultsInjected, r.Kills, r.Overlaps)
	switch {
	case p.terminal && elapsed-p.last >= 250*time.Millisecond:
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.last, p.shown = elapsed, true
	case !p.terminal && elapsed-p.last >= 5*time.Second:
		fmt.Fprintln(p.w, line)
		p.last = elapsed
	}
}

// done ends the progress display before the report.
func (p *stressProgress) done() {
	if p.shown {
		fmt.Fprintln(p.w)
	}
}
