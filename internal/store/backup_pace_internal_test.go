package store

import (
	"testing"
	"time"
)

// A step's pause keeps the copy at Share of a core; no pacing without a
// share below one.
func TestBackupPacePause(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		pace   BackupPace
		worked time.Duration
		want   time.Duration
	}{
		{"quarter of a core: three times the work", BackupPace{StepPages: 256, Share: 0.25}, 10 * time.Millisecond, 30 * time.Millisecond},
		{"half a core: as long as the work", BackupPace{Share: 0.5}, 4 * time.Millisecond, 4 * time.Millisecond},
		{"whole core: no pause", BackupPace{Share: 1}, time.Second, 0},
		{"zero value: no pause", BackupPace{}, time.Second, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.pace.pause(tc.worked); got != tc.want {
				t.Fatalf("pause(%s) = %s, want %s", tc.worked, got, tc.want)
			}
		})
	}
}
