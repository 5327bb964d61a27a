package identity

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"image/png"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP per RFC 6238: 30-second steps, 6 digits, SHA-1, accepting one step of
// clock drift either way.
const (
	totpPeriod = 30
	totpSkew   = 1
)

// Enrolment is what a user needs to add netkeep to an authenticator app.
type Enrolment struct {
	Secret string // base32
	URL    string // otpauth://totp/...
	QRPNG  string // base64 PNG of URL
}

func newEnrolment(issuer, account string) (*Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// checkTOTP returns the step that code matches at now, or 0. A step at or
// before lastStep is refused: a code is accepted at most once (replay).
func checkTOTP(secret, code string, now time.Time, lastStep int64) int64 {
	if len(code) != 6 {
		return 0
	}
	cur := now.Unix() / totpPeriod
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		if step <= lastStep {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totp.ValidateOpts{
			Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return 0
}

// TOTPCode returns the code for secret at t (tests and tooling).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}
