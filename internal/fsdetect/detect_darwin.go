package fsdetect

import "golang.org/x/sys/unix"

// detect reads macOS's mount list entry for path (statfs: f_fstypename,
// f_mntfromname, f_mntonname and MNT_LOCAL, as getfsstat lists them).
func detect(path string) (Info, error) {
	st, err := statfs(path)
	if err != nil {
		return Info{}, err
	}
	name := unix.ByteSliceToString(st.Fstypename[:])
	source := unix.ByteSliceToString(st.Mntfromname[:])
	point := unix.ByteSliceToString(st.Mntonname[:])
	return infoForMacMount(name, source, point, st.Flags&unix.MNT_LOCAL != 0, int64(st.Type)), nil
}
