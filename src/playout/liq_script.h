/*
 * liq_script.h - the Liquidsoap 2.1 script that onair-playout runs.
 *
 * The script is generated from the snapshot's output and live settings and
 * from this machine's settings (Icecast address, ports, directories). Its
 * shape:
 *
 *   slots 0..N-1   request queues, each behind a time gate that opens at
 *                  the item's start instant (set by "onair.push"); cue
 *                  points, fades and gain come as annotations
 *   webstream      input.http behind a [start, end) gate
 *   silence        blank() behind a [start, end) gate
 *   schedule     = add(slots, webstream, silence), kept running in wall-clock
 *                  time by a dummy output even while a live source covers it
 *   radio        = fallback(main live, show live, schedule, station
 *                  fallback playlist, safety loop) with fade transitions
 *   outputs        Icecast mounts and HLS segments
 *
 * The script reports to playout on standard output, one line per event:
 *   ONAIR-EVENT {"event":"start","slot":N,"item":"ID","t":SECONDS}
 *   ONAIR-EVENT {"event":"source","source":"schedule","t":SECONDS}
 *   ONAIR-EVENT {"event":"live_connect","input":"show","user":"...","t":...}
 *   ONAIR-EVENT {"event":"live_disconnect","input":"show","t":...}
 *   ONAIR-EVENT {"event":"output","output":"icecast:/live.mp3","up":true,"t":...}
 * and answers these server commands (besides Liquidsoap's own):
 *   onair.push SLOT START URI   set slot's gate to START (Unix seconds), queue URI
 *   onair.clear SLOT            close the gate and drop what the slot holds
 *   onair.skip                  end whatever the slots are playing now
 *   onair.webstream START END URL   relay URL in [START, END)
 *   onair.silence START END     deliberate silence in [START, END)
 *   onair.source NAME on|off    enable or disable schedule, show_live, main_live
 *   onair.kick INPUT            disconnect the DJ on main or show
 *   onair.status                one line of JSON: source, slots, inputs
 *   onair.ping                  "pong"
 */
#ifndef ONAIR_PLAYOUT_LIQ_SCRIPT_H
#define ONAIR_PLAYOUT_LIQ_SCRIPT_H

#include <stdint.h>

#include "common/buf.h"
#include "protocol/protocol.h"

#define LIQ_SLOTS 4

struct liq_script_options {
	const char *socket_path;	/* server socket */
	const char *fallback_m3u;	/* station fallback playlist file (may be empty) */
	const char *safety_file;	/* audio file looped when nothing else plays */
	const char *hls_dir;		/* HLS output directory, or NULL for none */
	const char *icecast_host;	/* NULL: no Icecast outputs */
	int icecast_port;
	const char *icecast_password;
	const char *harbor_address;	/* bind address of the live inputs */
	int harbor_port;		/* 0: no live inputs */
	const char *auth_command;	/* shell command that checks a live login; gets
					 * ONAIR_LIVE_INPUT/_USER/_PASSWORD in its
					 * environment and exits 0 to allow */
	const char *state_dir;		/* passed to auth_command as ONAIR_PLAYOUT_STATE_DIR */
	uint64_t run;			/* names this run's HLS segments ("aac_r<run>_<n>.ts"),
					 * so a restart's never collide with the last's */
	const char *station_name;
	int64_t transition_fade;	/* us, fade between sources (live in/out) */
	/* Dead-air watchdog: report silence on what is sent (below
	 * silence_db for silence_us: "blank" event, then "noise" when sound
	 * is back); silence_us 0: no detector. */
	int64_t silence_us;
	double silence_db;
	/* From the snapshot: outputs, HLS settings and live inputs. */
	const struct proto_snapshot *snap;
};

/* The script also registers onair.restart_outputs: stop and start every
 * output (the watchdog's second step). */

/* Append the whole script to out. 0, -EINVAL (an option out of range or a
 * string that cannot be put in the script), -ENOSPC (out's limit). */
int liq_script_write(const struct liq_script_options *o, struct buf *out);

/* Append s as a Liquidsoap string expression (quoted, escaped, safe from
 * "#{...}" interpolation). 0, -EINVAL (control characters), -ENOSPC. */
int liq_script_string(struct buf *out, const char *s);

/* Append s as a value inside an annotate: URI (backslash-escaped
 * quotes, control characters replaced by spaces). 0 or -ENOSPC. */
int liq_annotate_value(struct buf *out, const char *s);

#include "common/banned.h"
#endif
