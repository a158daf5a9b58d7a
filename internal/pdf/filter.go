package pdf

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"

	"compress/flate"
)

func decode(filter Name, parms Dict, data []byte, limit int64) ([]byte, error) {
	switch filter {
	case "FlateDecode", "Fl":
		out, err := inflate(data, limit)
		if err != nil {
			return nil, err
		}
		return unpredict(parms, out)
	case "Crypt":
		return data, nil // decrypted before the filters are applied
	}
	return nil, fmt.Errorf("pdf: unsupported filter /%s", filter)
}

func inflate(data []byte, limit int64) ([]byte, error) {
	var r io.Reader
	zr, err := zlib.NewReader(bytes.NewReader(data))
	if err != nil {
		// some producers write raw deflate data
		r = flate.NewReader(bytes.NewReader(data))
	} else {
		r = zr
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, limit+1))
	if n > limit {
		return nil, fmt.Errorf("pdf: decoded stream larger than %d bytes", limit)
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		// tolerate a missing checksum or truncated tail like other readers
		if buf.Len() == 0 {
			return nil, fmt.Errorf("pdf: inflate: %w", err)
		}
	}
	return buf.Bytes(), nil
}

func unpredict(parms Dict, data []byte) ([]byte, error) {
	pred, _ := AsInt(parms.Get("Predictor"))
	if pred < 10 {
		if pred == 2 {
			return nil, errors.New("pdf: TIFF predictor not supported")
		}
		return data, nil
	}
	cols, ok := AsInt(parms.Get("Columns"))
	if !ok {
		cols = 1
	}
	colors, ok := AsInt(parms.Get("Colors"))
	if !ok {
		colors = 1
	}
	bpc, ok := AsInt(parms.Get("BitsPerComponent"))
	if !ok {
		bpc = 8
	}
	if cols <= 0 || cols > 1<<20 || colors <= 0 || colors > 32 || bpc <= 0 || bpc > 16 {
		return nil, errors.New("pdf: bad predictor parameters")
	}
	bpp := int((colors*bpc + 7) / 8)
	rowLen := int((cols*colors*bpc + 7) / 8)
	out := make([]byte, 0, len(data))
	prev := make([]byte, rowLen)
	for pos := 0; pos+1+rowLen <= len(data); pos += 1 + rowLen {
		typ := data[pos]
		row := append([]byte(nil), data[pos+1:pos+1+rowLen]...)
		for i := range row {
			var left, up, upLeft byte
			if i >= bpp {
				left = row[i-bpp]
				upLeft = prev[i-bpp]
			}
			up = prev[i]
			switch typ {
			case 0:
			case 1:
				row[i] += left
			case 2:
				row[i] += up
			case 3:
				row[i] += byte((int(left) + int(up)) / 2)
			case 4:
				row[i] += paeth(left, up, upLeft)
			default:
				return nil, fmt.Errorf("pdf: bad PNG predictor type %d", typ)
			}
		}
		out = append(out, row...)
		prev = row
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
