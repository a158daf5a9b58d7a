#!/bin/sh
# Regenerates the encrypted-PDF fixtures of internal/pdf and internal/pades:
# a two-page PDF written by ghostscript, encrypted by ghostscript and qpdf,
# and LibreOffice Writer exports with a permission password,
# the way scanners and office suites do when they only set permissions
# (empty user password, an owner password guarding the permissions), plus
# restrictive-permission and open-password variants that must be refused.
#
#   sh internal/pdf/testdata/encrypted/make.sh
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/src.ps" <<'PS'
%!PS
/Helvetica findfont 20 scalefont setfont
72 720 moveto (Encrypted test contract, page 1) show
72 690 moveto (Signed by esign's tests) show
showpage
/Helvetica findfont 20 scalefont setfont
72 720 moveto (Page 2) show
showpage
PS
gs -q -dSAFER -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sOutputFile=source.pdf "$tmp/src.ps"

# ghostscript's own encryption: RC4 128-bit (R3); one file allowing everything, one allowing nothing
gs -q -dSAFER -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sOwnerPassword=owner \
	-dEncryptionR=3 -dKeyLength=128 -dPermissions=-3904 -sOutputFile=gs-rc4-128-no-changes.pdf "$tmp/src.ps"
gs -q -dSAFER -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sOwnerPassword=owner \
	-dEncryptionR=3 -dKeyLength=128 -dPermissions=-4 -sOutputFile=gs-rc4-128.pdf "$tmp/src.ps"

# LibreOffice Writer's PDF export with a permission password only (RC4
# 128-bit, R3): "any change except extracting pages" and "commenting and
# filling in forms" (no other changes), and the same export in clear
printf 'Encrypted test contract\n\nWritten by LibreOffice Writer.\n' >"$tmp/lo.txt"
lo() {
	soffice --headless "-env:UserInstallation=file://$tmp/profile" --convert-to "pdf:writer_pdf_Export:$2" --outdir "$tmp/out" "$tmp/lo.txt" >/dev/null
	mv "$tmp/out/lo.pdf" "$1"
}
perm() { echo '{"RestrictPermissions":{"type":"boolean","value":"true"},"PermissionPassword":{"type":"string","value":"owner"},"Changes":{"type":"long","value":"'"$1"'"}}'; }
lo lo-source.pdf '{}'
lo lo-rc4-128.pdf "$(perm 4)"
lo lo-rc4-128-comments-only.pdf "$(perm 3)"

q() { out=$1; shift; qpdf "$@" source.pdf "$out"; }
q aes128.pdf --encrypt "" owner 128 --use-aes=y --
q aes128-cleartext-metadata.pdf --encrypt "" owner 128 --use-aes=y --cleartext-metadata --
q aes128-annotate-n.pdf --encrypt "" owner 128 --use-aes=y --annotate=n --
q aes256.pdf --encrypt "" owner 256 --
q aes256-r5.pdf --encrypt "" owner 256 --force-R5 --
q aes256-objstm.pdf --object-streams=generate --encrypt "" owner 256 --
q aes256-modify-none.pdf --encrypt "" owner 256 --modify=none --
q aes256-modify-annotate.pdf --encrypt "" owner 256 --modify=annotate --
q rc4-128.pdf --allow-weak-crypto --encrypt "" owner 128 --use-aes=n --
q rc4-40.pdf --allow-weak-crypto --encrypt "" owner 40 --
q aes256-user-password.pdf --encrypt user owner 256 --
q aes128-user-password.pdf --encrypt user owner 128 --use-aes=y --
