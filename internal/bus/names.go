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

// MaxNamespace is the longest namespace CheckNamespace accepts.
const MaxNamespace = 32

// CheckNamespace reports an Invalid error unless ns can prefix every queue
// and exchange name: empty (the specification's names), or 1 to
// MaxNamespace bytes of lower-case letters, digits, '-' and '_', starting
// with a letter or a digit.
func CheckNamespace(ns string) error {
	if ns == "" {
		return nil
	}
	ok := len(ns) <= MaxNamespace && ns[0] != '-' && ns[0] != '_'
	for i := 0; ok && i < len(ns); i++ {
		c := ns[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}
	if !ok {
		return esign.Errorf("bus.CheckNamespace", esign.Invalid,
			"namespace %q must be 1 to %d lower-case letters, digits, '-' or '_', starting with a letter or a digit", ns, MaxNamespace)
	}
	return nil
}

// Qualify returns the name of queue, stream or group queue name on the
// broker in namespace ns: name itself when ns is empty, else ns + ":" + name
// (namespace "bank-a" serves esign:rpc-app as "bank-a:esign:rpc-app").
func Qualify(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + ":" + name
}

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
