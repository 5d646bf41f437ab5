package fsdetect

import "golang.org/x/sys/unix"

func detect(path string) (Info, error) {
	st, err := statfs(path)
	if err != nil {
		return Info{}, err
	}
	name := unix.ByteSliceToString(st.Fstypename[:])
	return infoForTypeName(name, st.Flags&unix.MNT_LOCAL != 0, int64(st.Type)), nil
}
