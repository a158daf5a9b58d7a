package bus

import (
	"strings"

	"esign/internal/esign"
)

// RPC queues, named as in the spec. oss serves the rpc-* queues; css serves
// CSSPing; oss's cron runner serves CronPing; pdfservice serves PDFService.
const (
	QueueApp            = "esign:rpc-app"
	QueueCustomer       = "esign:rpc-customer"
	QueueTimestamp      = "esign:rpc-timestamp"
	QueueDocument       = "esign:rpc-document"
	QueueContract       = "esign:rpc-contract"
	QueueOffer          = "esign:rpc-offer"
	QueueSignature      = "esign:rpc-signature"
	QueueSignatureCheck = "esign:rpc-signature-check"
	QueueCSSPing        = "esign:css-ping"
	QueueCronPing       = "esign:cron-ping"
	QueuePDFService     = "esign:rpc-pdfservice"
)

// Event streams. StreamSystemOSS keeps the spec's name "esign:rpc-system-oss"
// for the system-configuration push from oss to css; it is a stream, not a
// work queue, because every css replica must receive every push.
const (
	StreamServiceBus      = "esign:service-bus"
	StreamCustomerUpdates = "esign:customer-updates"
	StreamContractUpdates = "esign:contract-updates"
	StreamSystemOSS       = "esign:rpc-system-oss"
)

// Queues lists the RPC queues; Streams the event streams.
var (
	Queues = []string{QueueApp, QueueCustomer, QueueTimestamp, QueueDocument, QueueContract,
		QueueOffer, QueueSignature, QueueSignatureCheck, QueueCSSPing, QueueCronPing, QueuePDFService}
	Streams = []string{StreamServiceBus, StreamCustomerUpdates, StreamContractUpdates, StreamSystemOSS}
)

// CheckName reports an Invalid error unless name can be a queue, stream or
// group name on every transport: 1 to 200 bytes of printable ASCII, not
// starting with the broker-reserved "amq.". (Group queues append the group
// and ".dlq" to the stream name; AMQP allows 255 bytes.)
func CheckName(what, name string) error {
	if len(name) == 0 || len(name) > 200 || strings.HasPrefix(name, "amq.") {
		return esign.Errorf("bus.CheckName", esign.Invalid, "%s name %q is empty, too long or reserved", what, name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return esign.Errorf("bus.CheckName", esign.Invalid, "%s name %q has a space or a non-printable byte", what, name)
		}
	}
	return nil
}
