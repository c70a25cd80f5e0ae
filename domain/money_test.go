package domain_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stratahq/strata/domain"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in      string
		want    domain.Money
		text    string
		wantErr bool
	}{
		{"0", 0, "0", false},
		{"0.9", 900_000, "0.9", false},
		{"0.90", 900_000, "0.9", false},
		{"12.345678", 12_345_678, "12.345678", false},
		{"3", 3_000_000, "3", false},
		{"", 0, "", true},
		{"-1", 0, "", true},
		{"1.", 0, "", true},
		{".5", 0, "", true},
		{"1.1234567", 0, "", true},
		{"1e3", 0, "", true},
		{" 1", 0, "", true},
		{"99999999999999999999", 0, "", true},
	}
	for _, tt := range tests {
		got, err := domain.ParseMoney(tt.in)
		if tt.wantErr {
			if !errors.Is(err, domain.ErrInvalid) {
				t.Errorf("ParseMoney(%q) error = %v, want ErrInvalid", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.text {
			t.Errorf("ParseMoney(%q) = %d (%s), %v, want %d (%s)", tt.in, got, got, err, tt.want, tt.text)
		}
	}
}

func TestMoney_PerHour(t *testing.T) {
	price := domain.Money(900_000) // $0.90/h
	tests := []struct {
		d    time.Duration
		want domain.Money
	}{
		{time.Hour, 900_000},
		{30 * time.Minute, 450_000},
		{time.Second, 250},
		{0, 0},
		{-time.Hour, 0},
		{math.MaxInt64, 2_305_843_009_213}, // about 292 years
	}
	for _, tt := range tests {
		if got := price.PerHour(tt.d); got != tt.want {
			t.Errorf("Money(%s).PerHour(%s) = %s, want %s", price, tt.d, got, tt.want)
		}
	}
	if got := domain.Money(math.MaxInt64).PerHour(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("overflowing PerHour = %d, want saturation at MaxInt64", got)
	}
}
