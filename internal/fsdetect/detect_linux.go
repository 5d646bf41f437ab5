package fsdetect

func detect(path string) (Info, error) {
	st, err := statfs(path)
	if err != nil {
		return Info{}, err
	}
	// f_type is signed on some architectures; the magics are 32-bit.
	return withMount(infoForMagic(uint32(st.Type)), path), nil
}
