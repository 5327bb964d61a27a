package mac

// Format is one way of writing an address: the separator (0 for none), the
// digits per group and the case of the letters.
type Format struct {
	Sep   byte
	Group int // 2, 4 or 6; ignored without a separator
	Upper bool
}

// The forms access points send a station's MAC in, as User-Name and as the
// MAC-authentication password (hostapd, Cisco, Aruba, Meraki, Ruckus,
// Ubiquiti, Huawei; each configurable on some).
var (
	Bare       = Format{}
	BareUpper  = Format{Upper: true}
	Colon      = Format{Sep: ':', Group: 2}
	ColonUpper = Format{Sep: ':', Group: 2, Upper: true}
	Dash       = Format{Sep: '-', Group: 2}
	DashUpper  = Format{Sep: '-', Group: 2, Upper: true}
	Dot        = Format{Sep: '.', Group: 4}
	DotUpper   = Format{Sep: '.', Group: 4, Upper: true}
)

// VendorFormats lists the forms a MAC-authentication password is checked
// against when only a digest of it is known (CHAP); a clear-text password
// is parsed instead, which accepts every form Parse does.
var VendorFormats = [...]Format{Bare, BareUpper, Colon, ColonUpper, Dash, DashUpper, Dot, DotUpper}

// MaxLen is the longest text any Format produces.
const MaxLen = 17

// AppendFormat appends a written in f to b.
func (a Addr) AppendFormat(b []byte, f Format) []byte {
	digits := "0123456789abcdef"
	if f.Upper {
		digits = "0123456789ABCDEF"
	}
	for i := range 12 {
		if f.Sep != 0 && i > 0 && i%f.Group == 0 {
			b = append(b, f.Sep)
		}
		b = append(b, digits[a>>(44-4*i)&15])
	}
	return b
}

// String returns a as aa:bb:cc:dd:ee:ff, the form netkeep stores and shows.
func (a Addr) String() string {
	var b [MaxLen]byte
	return string(a.AppendFormat(b[:0], Colon))
}
