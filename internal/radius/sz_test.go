package radius
import ("testing";"unsafe")
func TestSz(t *testing.T){ t.Log(unsafe.Sizeof(Credential{}), unsafe.Sizeof(endpointEntry{})) }
