package jobs

import (
	"esign/internal/notify"
	"esign/internal/notify/fcm"
	"esign/internal/notify/inbox"
	"esign/internal/notify/smsapi"
	"esign/internal/notify/smtp"
)

// The providers in package notify satisfy the senders the queue uses.
var (
	_ SMSSender      = (*smsapi.Client)(nil)
	_ SMSSender      = (*inbox.Sender)(nil)
	_ EmailSender    = (*smtp.Sender)(nil)
	_ EmailSender    = (*inbox.Sender)(nil)
	_ PushSender     = (*fcm.Client)(nil)
	_ PushSender     = (*inbox.Sender)(nil)
	_ notify.Limiter = (*notify.RedisLimiter)(nil)
)
