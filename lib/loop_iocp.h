/* loop_iocp — what the Windows backend of loop.h offers beyond loop.h, for the
 * Windows-only modules of lib/ (dns_win.c). Windows only.
 *
 * A post is a one-shot message from any thread to the loop's thread: the loop thread
 * arms it, another thread sends it once, and its callback then runs from loop_run().
 * Unlike loop_wake() (one on_wake per loop, the caller's), each post has its own
 * callback and keeps the loop running while armed, so a module can wait for work done
 * on another thread (a blocking name lookup) without owning the loop's wake-up.
 */
#ifndef TP_LOOP_IOCP_H
#define TP_LOOP_IOCP_H

#ifdef _WIN32
#include "lib/loop.h"

struct loop_post;
typedef void (*loop_post_cb)(struct loop *loop, struct loop_post *post);

struct loop_post {
	loop_post_cb cb;
	void *data; /* the caller's; untouched by the loop */
	void *os;   /* private: the completion record, from loop_post_arm() to cb */
};

/* Loop thread: readies post to be sent once, with cb and data. Until cb has run the
 * post counts in loop_active(). Returns 0 or -ENOMEM. */
int loop_post_arm(struct loop *loop, struct loop_post *post, loop_post_cb cb, void *data);
/* Any thread, exactly once per arm: queues the post on the loop's completion port; cb
 * runs from loop_run() in the loop's thread. Returns 0 or -errno (the port is gone). */
int loop_post_send(struct loop *loop, struct loop_post *post);
/* Loop thread, once no thread will send the post any more (it sent it, or never
 * will): its callback will not run, it no longer counts in loop_active(), and its
 * memory is the caller's again at once. A packet already queued is then only
 * recycled when it arrives. */
void loop_post_forget(struct loop *loop, struct loop_post *post);

#endif
#endif
