package lockcheck

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// textWriter writes a report, keeping the first error.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// field writes one aligned "key  value" line of a section.
func (t *textWriter) field(key string, format string, args ...any) {
	t.printf("  %-20s %s\n", key, fmt.Sprintf(format, args...))
}

// WriteText writes the report for a person: one section per file, the
// locks as a table, then the verdict with each hazard and what to do.
func (r *Report) WriteText(w io.Writer) error {
	t := &textWriter{w: w}
	t.printf("database %s\n", r.Path)
	t.field("size", "%d bytes", r.Size)
	t.field("this host", "%s", r.Host)
	r.writeHeader(t)
	r.writeWAL(t)
	r.writeSHM(t)
	r.writeJournal(t)
	r.writeSidecar(t)
	r.writeWithoutWalguard(t)
	r.writeLocks(t)
	if len(r.Notes) > 0 {
		t.printf("\nnotes\n")
		for _, n := range r.Notes {
			t.printf("  - %s\n", n)
		}
	}
	r.writeVerdict(t)
	return t.err
}

func (r *Report) writeHeader(t *textWriter) {
	h := r.Header
	t.printf("\nheader\n")
	t.field("page size", "%d", h.PageSize)
	t.field("journal family", "%s (bytes 18/19 = %d/%d)", h.Family, h.WriteVersion, h.ReadVersion)
	t.field("file change counter", "%d", h.ChangeCounter)
	holds := r.Size / int64(h.PageSize)
	if h.PageCountValid {
		t.field("page count", "%d (the file holds %d)", h.PageCount, holds)
	} else {
		t.field("page count", "%d (not valid: written by an old SQLite; the file holds %d)", h.PageCount, holds)
	}
	t.field("text encoding", "%s", h.TextEncodingName())
	t.field("schema cookie", "%d", h.SchemaCookie)
	t.field("user version", "%d", h.UserVersion)
	t.field("application id", "%d (0x%08x)", h.ApplicationID, h.ApplicationID)
	t.field("written by", "SQLite %s (%d)", h.SQLiteVersionString(), h.SQLiteVersion)
}

func (r *Report) writeWAL(t *textWriter) {
	w := r.WAL
	if !w.Exists {
		t.printf("\nwal %s: absent\n", w.Path)
		return
	}
	t.printf("\nwal %s\n", w.Path)
	t.field("size", "%d bytes", w.Size)
	if w.Header == nil {
		if w.HeaderError != "" {
			t.field("header", "unusable: %s", w.HeaderError)
		} else {
			t.field("header", "none (empty file: reset after a checkpoint, or not written yet)")
		}
		t.field("checkpoint", "nothing to checkpoint")
		return
	}
	h := w.Header
	t.field("frames", "%d (%d valid, %d committed)", w.Frames, w.ValidFrames, w.CommittedFrames)
	t.field("page size", "%d", h.PageSize)
	t.field("checkpoint sequence", "%d", h.CheckpointSeq)
	t.field("salts", "0x%08x 0x%08x", h.Salt[0], h.Salt[1])
	t.field("header checksum", "%s", okOrBad(h.ChecksumOK, "bad: SQLite ignores every frame"))
	var state string
	switch w.Checkpoint {
	case CheckpointEmpty:
		state = "nothing to checkpoint"
	case CheckpointPending:
		state = fmt.Sprintf("%d frames await a checkpoint", w.PendingFrames)
	case CheckpointDone:
		state = "every committed frame is in the database"
	case CheckpointFramesPresent:
		state = fmt.Sprintf("frames present (%d committed; no usable -shm to compare)", w.CommittedFrames)
	default:
		state = w.Checkpoint
	}
	t.field("checkpoint", "%s", state)
}

func okOrBad(ok bool, bad string) string {
	if ok {
		return "ok"
	}
	return bad
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (r *Report) writeSHM(t *textWriter) {
	s := r.SHM
	if !s.Exists {
		t.printf("\nshm %s: absent\n", s.Path)
		return
	}
	t.printf("\nshm %s\n", s.Path)
	t.field("size", "%d bytes", s.Size)
	if s.Header == nil {
		t.field("header", "unusable: %s", s.HeaderError)
		return
	}
	h := s.Header
	t.field("iVersion", "%d", h.Version)
	t.field("iChange", "%d", h.Change)
	t.field("isInit", "%s", yesNo(h.IsInit))
	t.field("bigEndCksum", "%s", yesNo(h.BigEndCksum))
	t.field("szPage", "%d", h.PageSize)
	t.field("mxFrame", "%d", h.MaxFrame)
	t.field("nPage", "%d", h.Pages)
	t.field("aFrameCksum", "0x%08x 0x%08x", h.FrameCksum[0], h.FrameCksum[1])
	t.field("aSalt", "0x%08x 0x%08x", h.Salt[0], h.Salt[1])
	t.field("aCksum", "0x%08x 0x%08x (%s)", h.Cksum[0], h.Cksum[1], okOrBad(h.CksumOK, "bad"))
	t.field("copies equal", "%s", yesNo(h.CopiesEqual))
	t.field("nBackfill", "%d", h.Backfill)
	marks := make([]string, len(h.ReadMarks))
	for i, m := range h.ReadMarks {
		marks[i] = strconv.FormatUint(uint64(m), 10)
		if m == ReadMarkUnused {
			marks[i] = "unused"
		}
	}
	t.field("read marks 0-4", "%s", strings.Join(marks, " "))
	t.field("nBackfillAttempted", "%d", h.BackfillAttempted)
}

func (r *Report) writeJournal(t *textWriter) {
	j := r.Journal
	if !j.Exists {
		t.printf("\njournal %s: absent\n", j.Path)
		return
	}
	t.printf("\njournal %s\n", j.Path)
	t.field("size", "%d bytes", j.Size)
	switch {
	case j.HeaderZeroed:
		t.field("header", "zeroed")
	case !j.MagicOK:
		t.field("header", "not a journal header")
	default:
		t.field("header", "records %d, initial pages %d, sector %d, page %d", int32(j.Records), j.InitialPages, j.SectorSize, j.PageSize)
	}
	t.field("hot", "%s: %s", j.Hot, j.HotReason)
}

func (r *Report) writeSidecar(t *textWriter) {
	s := r.Sidecar
	if !s.Exists && s.Error == "" && !s.ReplacedWhileInUse {
		t.printf("\nsidecar %s: absent (no walguard connection has opened this database)\n", s.Path)
		return
	}
	t.printf("\nsidecar %s\n", s.Path)
	if s.Error != "" {
		t.field("error", "%s", s.Error)
	}
	switch {
	case s.Record != nil:
		t.field("record", "%s", s.Record)
	case s.RecordError != "":
		t.field("record", "none: %s", s.RecordError)
	}
	t.field("agreement byte", "%s", map[bool]string{true: "held (a change is in progress)", false: "free"}[s.AgreementHeld])
	t.field("protocols in use", "%s", listOrNone(s.Protocols))
	t.field("families in use", "%s", listOrNone(s.Families))
	if s.ReplacedWhileInUse {
		t.field("replaced", "sidecar replaced while in use: the database's mirror bytes show participants this sidecar does not (slots %s)", intsOrNone(s.UnlistedSlots))
	}
	t.field("live participants", "%d", len(s.Participants))
	for _, p := range s.Participants {
		if p.Entry != nil {
			t.field(fmt.Sprintf("  slot %d", p.Slot), "%s", p.Entry)
		} else {
			t.field(fmt.Sprintf("  slot %d", p.Slot), "unreadable entry: %s", p.Error)
		}
	}
}

func listOrNone[T fmt.Stringer](list []T) string {
	if len(list) == 0 {
		return "none"
	}
	names := make([]string, len(list))
	for i, v := range list {
		names[i] = v.String()
	}
	return strings.Join(names, ", ")
}

func (r *Report) writeLocks(t *textWriter) {
	if r.LockTable == "" {
		t.printf("\nlocks: unknown (%s)\n", r.LockTableError)
		return
	}
	if len(r.Locks) == 0 {
		t.printf("\nlocks (%s): none\n", r.LockTable)
		return
	}
	t.printf("\nlocks (%s)\n", r.LockTable)
	if t.err != nil {
		return
	}
	tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  FILE\tKIND\tACCESS\tRANGE\tPID\tCOMMAND\n")
	for _, l := range r.Locks {
		pid := "?"
		if l.PID > 0 {
			pid = strconv.Itoa(l.PID)
		}
		access := l.Access
		if l.Blocked {
			access += " (waiting)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", l.File, strings.ToUpper(l.Kind), access, l.Range, pid, l.Command)
	}
	t.err = tw.Flush()
}

func (r *Report) writeVerdict(t *textWriter) {
	if len(r.Hazards) == 0 {
		t.printf("\nverdict: %s\n", VerdictConsistent)
		return
	}
	t.printf("\nverdict: %s (%d found)\n", VerdictHazard, len(r.Hazards))
	for _, h := range r.Hazards {
		t.printf("  [%s] %s\n", h.Code, h.Message)
		t.printf("    what to do: %s\n", h.Advice)
	}
}

func intsOrNone(list []int) string {
	if len(list) == 0 {
		return "none"
	}
	names := make([]string, len(list))
	for i, v := range list {
		names[i] = strconv.Itoa(v)
	}
	return strings.Join(names, ", ")
}

func (r *Report) writeWithoutWalguard(t *textWriter) {
	if r.LockTable == "" {
		return // unknown: writeLocks says why
	}
	if len(r.WithoutWalguard) == 0 {
		t.printf("\nparticipants without walguard: none\n")
		return
	}
	t.printf("\nparticipants without walguard (holding SQLite's own locks, no slot)\n")
	for _, f := range r.WithoutWalguard {
		t.field("  "+holder(f.PID, f.Command, ""), "%s, holds %s", f.Protocol, strings.Join(f.Locks, ", "))
	}
}
