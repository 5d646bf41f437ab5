package filelock

// macOS has open file description locks under private fcntl numbers
// (sys/fcntl.h: F_OFD_SETLK 90, F_OFD_GETLK 92), as ncruces uses them.
const (
	fOFDSetLk = 90
	fOFDGetLk = 92
)
