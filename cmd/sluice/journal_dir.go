package main

// journalDir returns the journal directory: --dir, or the configuration's
// journal.dir.
func (f *journalFlags) journalDir() (string, error) {
	if f.dir != "" {
		return f.dir, nil
	}
	regs, err := registries()
	if err != nil {
		return "", err
	}
	file, err := loadConfig(f.config, regs)
	if err != nil {
		return "", withExit(exitInvalidConfig, err)
	}
	return file.Journal.Dir, nil
}
