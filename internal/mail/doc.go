// Package mail renders trailpass's messages (password reset, email
// verification, approval, security notices) from templates embedded in the
// binary, queues them through the database outbox, and delivers the outbox
// over SMTP.
//
// Delivery is at least once. A sender claims due rows with a lease
// (ClaimLease), sends, then marks them sent. Two instances never hold the same
// row, so they never send it twice; but if a process dies after the SMTP server
// accepted a message and before the row is marked sent (a window of one
// database write), the lease expires and the message goes again. Mail that
// cannot be delivered is retried with exponential backoff (RetryBase doubling
// up to RetryMax) until GiveUpAfter has passed since it was queued; then it is
// marked failed, an error is logged and trailpass_mail_failed_total counts it.
package mail
