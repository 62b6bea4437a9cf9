//go:build !linux

package kvpsink

import (
	"errors"
	"os"
)

var errUnsupported = errors.New("the kvp sink needs Linux (flock and fcntl locks on the pool file)")

func tryFlock(*os.File) (bool, error)      { return false, errUnsupported }
func tryRecordLock(*os.File) (bool, error) { return false, errUnsupported }
func unlock(*os.File) error                { return errUnsupported }
