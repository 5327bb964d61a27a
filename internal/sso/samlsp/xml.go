package samlsp

import "encoding/xml"

// xmlMarshal renders metadata with the XML declaration.
func xmlMarshal(v any) ([]byte, error) {
	b, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), b...), nil
}
