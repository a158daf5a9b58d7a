// Command esign runs the processes of the esign electronic-signature
// platform and its tools. See 'esign help'. A bank that compiles its own
// hooks in copies examples/bank-esign instead (docs/customization.md).
package main

import "esign/cmd/esigncmd"

func main() { esigncmd.Main(nil) }
