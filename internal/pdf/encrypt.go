package pdf

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"crypto/rc4"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"esign/internal/esign"
)

// This file implements the standard security handler (ISO 32000-1 7.6.3,
// ISO 32000-2 7.6.4) for documents whose user password is empty: the
// document opens without a password and the owner password only guards
// the permissions. Supported: RC4 40-bit (V1, R2), RC4 up to 128-bit (V2,
// R3), crypt filters V2 and AESV2 (V4, R4) and AESV3 (V5, R5 and R6).
// Objects are decrypted when they are read (strings at once, stream data
// when it is decoded) and the objects of an Update are encrypted when it
// is built, each with its object's key.

// Permissions are the user access permissions of an encrypted document
// (the /P entry, ISO 32000-1 Table 22). A bit set allows the operation.
type Permissions uint32

// The permission bits of ISO 32000-1 Table 22 (bit 1 is the low bit).
const (
	PermPrint            Permissions = 1 << 2  // bit 3: print
	PermModify           Permissions = 1 << 3  // bit 4: modify the contents other than by bits 6, 9, 11
	PermCopy             Permissions = 1 << 4  // bit 5: copy or extract text and graphics
	PermAnnotate         Permissions = 1 << 5  // bit 6: add or modify annotations, fill in form fields; with bit 4, create or modify form fields (signature fields included)
	PermFillForms        Permissions = 1 << 8  // bit 9: fill in existing form fields (signature fields included), even if bit 6 is clear
	PermAccessibility    Permissions = 1 << 9  // bit 10: extract text and graphics for accessibility
	PermAssemble         Permissions = 1 << 10 // bit 11: insert, rotate or delete pages, create bookmarks
	PermPrintHighQuality Permissions = 1 << 11 // bit 12: print at full quality
)

// Has reports whether every bit of want is set in p.
func (p Permissions) Has(want Permissions) bool { return p&want == want }

// Encryption describes the encryption of a document opened with the empty
// user password.
type Encryption struct {
	V, R            int         // the /V and /R entries of the encryption dictionary
	Method          string      // "RC4-40", "RC4-128", "AES-128" or "AES-256" (of the string and stream filters)
	Permissions     Permissions // the /P entry (for R6 checked against /Perms)
	EncryptMetadata bool        // false when XMP metadata streams are left in clear
}

type cryptMethod uint8

const (
	cryptNone cryptMethod = iota // the Identity filter: no encryption
	cryptRC4
	cryptAESV2 // AES-128-CBC with the object key
	cryptAESV3 // AES-256-CBC with the file key
)

// security is the standard security handler of an open document.
type security struct {
	info     Encryption
	key      []byte // the file encryption key
	encNum   int    // object number of the /Encrypt dictionary, -1 if direct
	str, stm cryptMethod
	eff      cryptMethod
	filters  map[Name]cryptMethod
}

// passwordPad is the padding string of ISO 32000-1 7.6.3.3, Algorithm 2.
var passwordPad = []byte{
	0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
	0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A,
}

func encryptedErr(msg string, err error) error {
	return &esign.Error{Op: "pdf.Open", Kind: esign.Invalid, Code: CodeEncrypted, Msg: msg, Err: err}
}

// badEncryption is the refusal of a document whose encryption dictionary
// cannot be used.
func badEncryption(err error) error {
	return encryptedErr("the PDF is encrypted but its encryption dictionary is malformed: it cannot be decrypted", err)
}

// errPassword is the refusal of a document that needs a user password.
func errPassword() error {
	return encryptedErr("the PDF is encrypted with a password: not supported (only encrypted PDFs that open without a password can be signed or verified; ask for a copy without an open password)", nil)
}

// openSecurity reads the /Encrypt dictionary of d and authenticates the
// empty user password.
func openSecurity(d *Document) (*security, error) {
	s := &security{encNum: -1, filters: map[Name]cryptMethod{}}
	eo := d.Trailer["Encrypt"]
	if r, ok := eo.(Ref); ok {
		s.encNum = r.Num
	}
	ed, err := d.ResolveDict(eo)
	if err != nil {
		return nil, badEncryption(err)
	}
	if ed == nil {
		return nil, badEncryption(errors.New("the /Encrypt entry is not a dictionary"))
	}
	if f, _ := AsName(ed["Filter"]); f != "Standard" {
		return nil, encryptedErr(fmt.Sprintf("the PDF is encrypted with the security handler /%s (certificates or a proprietary scheme): not supported; only password encryption that opens without a password is", f), nil)
	}
	v, _ := AsInt(ed["V"])
	r, _ := AsInt(ed["R"])
	p, _ := AsInt(ed["P"])
	o, _ := AsString(ed["O"])
	u, _ := AsString(ed["U"])
	s.info = Encryption{V: int(v), R: int(r), Permissions: Permissions(uint32(int32(p))), EncryptMetadata: true}
	if em, ok := ed["EncryptMetadata"].(Bool); ok {
		s.info.EncryptMetadata = bool(em)
	}
	unsupported := func(what string) error {
		return encryptedErr(fmt.Sprintf("the PDF is encrypted with %s: not supported", what), nil)
	}
	var id0 []byte
	if ids, ok := AsArray(d.Trailer["ID"]); ok && len(ids) > 0 {
		id0, _ = AsString(ids[0])
	}
	switch v {
	case 1, 2:
		n := 5
		if v == 2 {
			l, ok := AsInt(ed["Length"])
			if !ok {
				l = 40
			}
			if l < 40 || l > 128 || l%8 != 0 {
				return nil, unsupported(fmt.Sprintf("an RC4 key of %d bits", l))
			}
			n = int(l / 8)
		}
		if r != 2 && r != 3 {
			return nil, unsupported(fmt.Sprintf("the standard security handler revision %d with /V %d", r, v))
		}
		s.str, s.stm, s.eff = cryptRC4, cryptRC4, cryptRC4
		if err := s.authRC4(o, u, id0, n); err != nil {
			return nil, err
		}
		s.info.Method = fmt.Sprintf("RC4-%d", 8*n)
	case 4, 5:
		cf, _ := d.ResolveDict(ed["CF"])
		for name, fo := range cf {
			fd, _ := d.ResolveDict(fo)
			cfm, _ := AsName(fd["CFM"])
			switch cfm {
			case "None":
				s.filters[name] = cryptNone
			case "V2":
				s.filters[name] = cryptRC4
			case "AESV2":
				s.filters[name] = cryptAESV2
			case "AESV3":
				s.filters[name] = cryptAESV3
			default:
				return nil, unsupported(fmt.Sprintf("the crypt filter method /%s", cfm))
			}
			if m := s.filters[name]; m != cryptNone && (m == cryptAESV3) != (v == 5) {
				return nil, unsupported(fmt.Sprintf("the crypt filter method /%s with /V %d", cfm, v))
			}
		}
		s.filters["Identity"] = cryptNone
		pick := func(key Name, def cryptMethod) (cryptMethod, error) {
			n, ok := AsName(ed[key])
			if !ok {
				return def, nil
			}
			m, ok := s.filters[n]
			if !ok {
				return 0, unsupported(fmt.Sprintf("an undefined crypt filter /%s", n))
			}
			return m, nil
		}
		if s.str, err = pick("StrF", cryptNone); err != nil {
			return nil, err
		}
		if s.stm, err = pick("StmF", cryptNone); err != nil {
			return nil, err
		}
		if s.eff, err = pick("EFF", s.stm); err != nil {
			return nil, err
		}
		if v == 4 {
			if r != 4 {
				return nil, unsupported(fmt.Sprintf("the standard security handler revision %d with /V 4", r))
			}
			n := 16
			if l, ok := AsInt(ed["Length"]); ok && l >= 40 && l <= 128 && l%8 == 0 {
				n = int(l / 8)
			}
			for _, m := range []cryptMethod{s.str, s.stm, s.eff} {
				if m == cryptAESV2 {
					n = 16
				}
			}
			if err := s.authRC4(o, u, id0, n); err != nil {
				return nil, err
			}
		} else {
			if r != 5 && r != 6 {
				return nil, unsupported(fmt.Sprintf("the standard security handler revision %d with /V 5", r))
			}
			ue, _ := AsString(ed["UE"])
			perms, _ := AsString(ed["Perms"])
			if err := s.authAES256(u, ue, perms); err != nil {
				return nil, err
			}
		}
		s.info.Method = fmt.Sprintf("RC4-%d", 8*len(s.key))
		switch max(s.str, s.stm) {
		case cryptNone:
			s.info.Method = "none"
		case cryptAESV2:
			s.info.Method = "AES-128"
		case cryptAESV3:
			s.info.Method = "AES-256"
		}
	default:
		return nil, unsupported(fmt.Sprintf("the encryption algorithm /V %d", v))
	}
	return s, nil
}

// authRC4 computes the file key for the empty user password (Algorithm 2)
// and checks it against /U (Algorithm 4 for R2, 5 for R3 and R4).
func (s *security) authRC4(o, u, id0 []byte, n int) error {
	if len(o) < 32 || len(u) < 32 {
		return badEncryption(errors.New("/O or /U shorter than 32 bytes"))
	}
	h := md5.New()
	h.Write(passwordPad) // the empty password padded
	h.Write(o[:32])
	var pb [4]byte
	binary.LittleEndian.PutUint32(pb[:], uint32(s.info.Permissions))
	h.Write(pb[:])
	h.Write(id0)
	if s.info.R >= 4 && !s.info.EncryptMetadata {
		h.Write([]byte{0xff, 0xff, 0xff, 0xff})
	}
	key := h.Sum(nil)
	if s.info.R >= 3 {
		for range 50 {
			k := md5.Sum(key[:n])
			key = k[:]
		}
	}
	key = key[:n]
	var check []byte
	if s.info.R == 2 {
		check = rc4Bytes(key, passwordPad)
		if subtle.ConstantTimeCompare(check, u[:32]) != 1 {
			return errPassword()
		}
	} else {
		h := md5.New()
		h.Write(passwordPad)
		h.Write(id0)
		check = rc4Bytes(key, h.Sum(nil))
		k := make([]byte, len(key))
		for i := byte(1); i <= 19; i++ {
			for j := range key {
				k[j] = key[j] ^ i
			}
			check = rc4Bytes(k, check)
		}
		if subtle.ConstantTimeCompare(check, u[:16]) != 1 {
			return errPassword()
		}
	}
	s.key = key
	return nil
}

// authAES256 checks the empty user password against /U (ISO 32000-2
// Algorithm 11), derives the file key from /UE (Algorithm 2.A) and checks
// the permissions against /Perms (Algorithm 13).
func (s *security) authAES256(u, ue, perms []byte) error {
	if len(u) < 48 || len(ue) < 32 || len(perms) < 16 {
		return badEncryption(errors.New("/U, /UE or /Perms too short"))
	}
	if subtle.ConstantTimeCompare(hashR6(nil, u[32:40], nil, s.info.R), u[:32]) != 1 {
		return errPassword()
	}
	ik := hashR6(nil, u[40:48], nil, s.info.R)
	b, err := aes.NewCipher(ik)
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	cipher.NewCBCDecrypter(b, make([]byte, 16)).CryptBlocks(key, ue[:32])
	kb, err := aes.NewCipher(key)
	if err != nil {
		return err
	}
	var pd [16]byte
	kb.Decrypt(pd[:], perms[:16])
	if string(pd[9:12]) != "adb" {
		return badEncryption(errors.New("/Perms does not decrypt with the file key"))
	}
	if Permissions(binary.LittleEndian.Uint32(pd[:4])) != s.info.Permissions {
		return encryptedErr("the permissions (/P) of the encrypted PDF differ from those sealed in /Perms: the file was altered", nil)
	}
	s.key = key
	return nil
}

// hashR6 is the hash of ISO 32000-2 Algorithm 2.B (R6), or SHA-256 of
// password, salt and udata for the deprecated R5.
func hashR6(pw, salt, udata []byte, r int) []byte {
	h := sha256.New()
	h.Write(pw)
	h.Write(salt)
	h.Write(udata)
	k := h.Sum(nil)
	if r == 5 {
		return k
	}
	seq := make([]byte, 0, len(pw)+64+len(udata))
	var k1, e []byte
	hs := [3]hash.Hash{sha256.New(), sha512.New384(), sha512.New()}
	for i := 0; ; {
		seq = append(append(append(seq[:0], pw...), k...), udata...)
		k1 = k1[:0]
		for range 64 {
			k1 = append(k1, seq...)
		}
		b, _ := aes.NewCipher(k[:16])
		if cap(e) < len(k1) {
			e = make([]byte, len(k1))
		}
		e = e[:len(k1)]
		cipher.NewCBCEncrypter(b, k[16:32]).CryptBlocks(e, k1)
		sum := 0
		for _, c := range e[:16] {
			sum += int(c)
		}
		hh := hs[sum%3]
		hh.Reset()
		hh.Write(e)
		k = hh.Sum(k[:0])
		i++
		if i >= 64 && int(e[len(e)-1]) <= i-32 {
			break
		}
	}
	return k[:32]
}

func rc4Bytes(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		return nil
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

// objectKey is the key of object r for method m (Algorithm 1; AESV3 uses
// the file key itself).
func (s *security) objectKey(m cryptMethod, r Ref) []byte {
	if m == cryptAESV3 {
		return s.key
	}
	h := md5.New()
	h.Write(s.key)
	h.Write([]byte{byte(r.Num), byte(r.Num >> 8), byte(r.Num >> 16), byte(r.Gen), byte(r.Gen >> 8)})
	if m == cryptAESV2 {
		h.Write([]byte("sAlT"))
	}
	return h.Sum(nil)[:min(len(s.key)+5, 16)]
}

// decrypt decrypts data of object r with method m. Malformed AES data is
// read as leniently as viewers do: a partial last block is dropped and bad
// padding kept.
func (s *security) decrypt(m cryptMethod, r Ref, data []byte) []byte {
	switch m {
	case cryptRC4:
		return rc4Bytes(s.objectKey(m, r), data)
	case cryptAESV2, cryptAESV3:
		if len(data) < 16 {
			return nil
		}
		b, err := aes.NewCipher(s.objectKey(m, r))
		if err != nil {
			return nil
		}
		body := data[16:]
		body = body[:len(body)-len(body)%16]
		out := make([]byte, len(body))
		cipher.NewCBCDecrypter(b, data[:16]).CryptBlocks(out, body)
		if n := len(out); n > 0 {
			p := int(out[n-1])
			if p >= 1 && p <= 16 && p <= n && bytes.Count(out[n-p:], out[n-1:]) == p {
				out = out[:n-p]
			}
		}
		return out
	}
	return data
}

// encrypt encrypts data of object r with method m (AES with a random IV
// and PKCS#5 padding).
func (s *security) encrypt(m cryptMethod, r Ref, data []byte) ([]byte, error) {
	switch m {
	case cryptRC4:
		return rc4Bytes(s.objectKey(m, r), data), nil
	case cryptAESV2, cryptAESV3:
		b, err := aes.NewCipher(s.objectKey(m, r))
		if err != nil {
			return nil, err
		}
		p := 16 - len(data)%16
		out := make([]byte, 16+len(data)+p)
		if _, err := rand.Read(out[:16]); err != nil {
			return nil, fmt.Errorf("pdf: random IV: %w", err)
		}
		copy(out[16:], data)
		for i := 16 + len(data); i < len(out); i++ {
			out[i] = byte(p)
		}
		cipher.NewCBCEncrypter(b, out[:16]).CryptBlocks(out[16:], out[16:])
		return out, nil
	}
	return data, nil
}

// isSignatureDict reports whether d is a signature dictionary, whose
// /Contents is not encrypted (ISO 32000-1 7.6.1): /Type /Sig or
// /DocTimeStamp (ISO 32000-2 Table 255), or, /Type being optional, a
// /ByteRange array with a /Contents string.
func isSignatureDict(d Dict) bool {
	switch d["Type"] {
	case Name("Sig"), Name("DocTimeStamp"):
		return true
	}
	_, br := d["ByteRange"].(Array)
	_, c := d["Contents"].(String)
	return br && c
}

// streamMethod returns the crypt filter that applies to the data of the
// stream with dictionary sd.
func (s *security) streamMethod(sd Dict) cryptMethod {
	switch sd["Type"] {
	case Name("XRef"):
		return cryptNone // cross-reference streams are not encrypted
	case Name("Metadata"):
		if !s.info.EncryptMetadata {
			return cryptNone
		}
	case Name("EmbeddedFile"):
		return s.eff
	}
	fs, ps := filterList(sd)
	if len(fs) > 0 && fs[0] == "Crypt" {
		name := Name("Identity")
		if n, ok := AsName(ps[0].Get("Name")); ok {
			name = n
		}
		if m, ok := s.filters[name]; ok {
			return m
		}
		return cryptNone
	}
	return s.stm
}

// decryptObject decrypts the strings of object r read from the file and
// marks its stream, if any, for decryption when its data is decoded.
func (s *security) decryptObject(r Ref, o Object) Object {
	if r.Num == s.encNum {
		return o
	}
	var walk func(o Object, depth int) Object
	walk = func(o Object, depth int) Object {
		if depth > MaxDepth {
			return o
		}
		switch v := o.(type) {
		case String:
			return String{Value: s.decrypt(s.str, r, v.Value), Hex: v.Hex}
		case Array:
			for i, e := range v {
				v[i] = walk(e, depth+1)
			}
			return v
		case Dict:
			if v["Type"] == Name("XRef") {
				return v
			}
			sig := isSignatureDict(v)
			for k, e := range v {
				if sig && k == "Contents" {
					continue
				}
				v[k] = walk(e, depth+1)
			}
			return v
		case *Stream:
			walk(v.Dict, depth+1)
			v.crypt = s.streamMethod(v.Dict)
			v.ref = r
			return v
		}
		return o
	}
	return walk(o, 0)
}

// encryptObject returns a copy of o, the new object r, with its strings
// and stream data encrypted.
func (s *security) encryptObject(r Ref, o Object) (Object, error) {
	var walk func(o Object) (Object, error)
	walk = func(o Object) (Object, error) {
		switch v := o.(type) {
		case String:
			e, err := s.encrypt(s.str, r, v.Value)
			return String{Value: e, Hex: true}, err
		case Array:
			a := make(Array, len(v))
			for i, e := range v {
				var err error
				if a[i], err = walk(e); err != nil {
					return nil, err
				}
			}
			return a, nil
		case Dict:
			if v["Type"] == Name("XRef") {
				return v, nil
			}
			sig := isSignatureDict(v)
			d := make(Dict, len(v))
			for k, e := range v {
				if sig && k == "Contents" {
					d[k] = e
					continue
				}
				var err error
				if d[k], err = walk(e); err != nil {
					return nil, err
				}
			}
			return d, nil
		case *Stream:
			d, err := walk(v.Dict)
			if err != nil {
				return nil, err
			}
			data, err := s.encrypt(s.streamMethod(v.Dict), r, v.Data)
			if err != nil {
				return nil, err
			}
			return &Stream{Dict: d.(Dict), Offset: v.Offset, Length: v.Length, Data: data}, nil
		}
		return o, nil
	}
	return walk(o)
}

// Encryption returns how the document is encrypted, or nil if it is not.
func (d *Document) Encryption() *Encryption {
	if d.sec == nil {
		return nil
	}
	e := d.sec.info
	return &e
}

// Encrypt returns o, to be written as object r of this update, with its
// strings and stream data encrypted with the document's key; o itself is
// not changed. Build encrypts the objects it writes itself; Encrypt is for
// the parts of a Raw object (which Build writes as is). The /Contents of a
// signature dictionary stays in clear (ISO 32000-1 7.6.1). Without
// encryption o is returned unchanged.
func (u *Update) Encrypt(r Ref, o Object) (Object, error) {
	if u.doc.sec == nil {
		return o, nil
	}
	return u.doc.sec.encryptObject(r, o)
}
