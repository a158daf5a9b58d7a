#!/bin/sh
# Regenerates the input-class fixtures of docs/pades.md ("Input classes"):
# PDFs as other producers and signers write them, each made by real tools.
#
#   ghostscript, LibreOffice, qpdf  the documents (and an .odt payload)
#   openssl cms                      the other signers' CMS signatures, made
#                                    by TestGenerateInputs over the ByteRange
#                                    of an update this package writes
#   cat, head, sed                   polyglots and damaged files
#
# Needs: openssl qpdf gs soffice (libreoffice-writer-nogui) go.
# Run from anywhere: internal/pades/testdata/inputs/make.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# --- a PKI outside the development one (keys are thrown away) ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 7300 -sha256 \
	-subj "/O=esign fixtures/CN=Fixture Legacy CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier=hash\n' >leaf.ext
leaf() { # leaf KEY SUBJECT OUT: a certificate with serial 0x1001
	openssl req -new -key "$1" -subj "$2" -out leaf.csr
	openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -set_serial 0x1001 -days 7300 -sha256 \
		-extfile leaf.ext -out "$3" 2>/dev/null
}
openssl genrsa -out signer.key 2048 2>/dev/null
openssl genrsa -out other.key 2048 2>/dev/null
leaf signer.key "/O=esign fixtures/CN=Legacy Signer" signer.pem
# same issuer and serial number, another key
leaf other.key "/O=esign fixtures/CN=Legacy Signer" rogue-otherkey.pem
# same issuer, serial number and key, another subject
leaf signer.key "/O=esign fixtures/CN=Mallory" rogue-samekey.pem
cat ca.pem rogue-samekey.pem >ca-and-rogue.pem # openssl cms takes one -certfile

# --- documents ---
cat >contract.ps <<'PS'
%!PS
/Helvetica findfont 18 scalefont setfont
72 720 moveto (Loan agreement: input-class fixture) show
72 690 moveto (made by ghostscript from PostScript) show
showpage
PS
gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pdfwrite -sOutputFile=base-gs.pdf contract.ps
qpdf --object-streams=generate base-gs.pdf base-objstm.pdf
printf 'Account agreement\n\nan input-class fixture made by LibreOffice Writer\n' >contract.txt
soffice --headless -env:UserInstallation="file://$tmp/lo-profile" --convert-to pdf:writer_pdf_Export --outdir . contract.txt >/dev/null
mv contract.pdf base-lo.pdf
soffice --headless -env:UserInstallation="file://$tmp/lo-profile" --convert-to odt --outdir . contract.txt >/dev/null

# --- other signers' signatures (openssl cms) ---
(cd "$pkg" && go test -count=1 -run '^TestGenerateInputs$' . -generate-inputs="$tmp")
cp ca.pem "$here/ca.pem"

# --- polyglots: a PDF and something else ---
out=$here
page='<!DOCTYPE html><html><body><h1>Pay 10000 EUR to account X</h1><script>document.title="not the PDF"</script></body></html>'
{ printf '%s\n' "$page"; cat base-gs.pdf; } >"$out/polyglot-html-before.pdf"
{ cat base-gs.pdf; printf '%s\n' "$page"; } >"$out/polyglot-html-after.pdf"
# bytes put before a signed PDF: its offsets now count from the header
{ printf '%s\n' "$page"; cat "$out/legacy-attrs.pdf"; } >"$out/polyglot-html-before-signed.pdf"
{ cat base-lo.pdf; cat contract.odt; } >"$out/polyglot-zip-after.pdf"
# what writers pad with after %%EOF: white space and NULs (tolerated)
{ cat base-gs.pdf; printf '\r\n\000\000\000\000  \n\n'; } >"$out/padded-after-eof.pdf"

# --- files that are not readable PDFs ---
size=$(wc -c <base-gs.pdf)
head -c $((size / 2)) base-gs.pdf >"$out/truncated.pdf"
cp contract.odt "$out/not-a-pdf.pdf"
# the startxref of qpdf's output pointing 3 bytes too far (same length)
qpdf --static-id base-gs.pdf qpdf.pdf
sx=$(tail -c 40 qpdf.pdf | sed -n '/startxref/{n;p;}')
LC_ALL=C sed "s/^$sx\$/$((sx + 3))/" qpdf.pdf >"$out/broken-xref.pdf"
# two revisions whose newest /Prev points at itself (nothing after the
# trailer is referenced, so its length may change)
cp "$out/legacy-noattr.pdf" two.pdf
last=$(tail -c 40 two.pdf | sed -n '/startxref/{n;p;}')
prev=$(grep -a -o '/Prev [0-9]*' two.pdf | tail -1 | cut -d' ' -f2)
LC_ALL=C sed "s#/Prev $prev\([^0-9]\)#/Prev $last\1#" two.pdf >"$out/prev-loop.pdf"
# encrypted with a user password: cannot be opened without it
qpdf --encrypt secret owner 256 -- base-gs.pdf "$out/encrypted-user-password.pdf"

ls -l "$out"
