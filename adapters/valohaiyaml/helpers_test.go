package valohaiyaml_test

import "os"

func osReadFile(name string) ([]byte, error) { return os.ReadFile(name) }
