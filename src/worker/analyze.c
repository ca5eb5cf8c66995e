/*
 * analyze.c - one decode pass over a media file, feeding every measure.
 *
 * Flow: open (custom I/O over the file, hashed as it is read; audio
 * demuxers only; no other file or URL may be opened) -> tags, artwork,
 * stream choice -> decode loop: each frame becomes planar float in the
 * first frame's format (pcm.c) and goes, slice by slice, to the loudness
 * meter (libebur128's K-weighting, our gating: loudness.h; its own
 * true-peak mode is several times slower than decoding), to our
 * true-peak meter (truepeak.h), to the waveform and to the silence scan
 * (levels.h) -> verdict and results.
 *
 * Verdict. A file fails (ok = false) when it cannot be opened or read,
 * has no audio stream or no decoder for it, declares or decodes to an
 * absurd sample rate or channel count, decodes to nothing, has more
 * decoder errors than tolerated, stops with a demuxer error, is shorter
 * than its header declares by more than max(1 s, 2%) (truncated), is
 * longer than max_duration_us, or runs past the time limit. A few
 * decoder errors (a corrupt stretch in an MP3: a glitch of a frame or
 * two) leave it playable with a warning, as do silence, a header that
 * declares less than the file holds, and a WAV data chunk that declares
 * more (streaming writers and crashed recorders leave such sizes; the
 * audio that is there plays).
 */
#include "worker/analyze.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "worker/avlog.h"
#include "worker/levels.h"
#include "worker/loudness.h"
#include "worker/pcm.h"
#include "worker/source.h"
#include "worker/tags.h"
#include "worker/truepeak.h"

/* Demuxers we accept (FFmpeg names). Anything else, including playlist
 * and image formats, is "not a supported audio file". */
#define AUDIO_DEMUXERS                                                                    \
	"aac,ac3,aiff,amr,ape,asf,au,caf,dts,dtshd,eac3,flac,loas,matroska,mlp,mov,mp3,"  \
	"mpc,mpc8,ogg,tak,truehd,tta,w64,wav,wv"

#define POLL_US (100 * USEC_PER_MSEC)	/* how often opt->cancel is asked */
#define MAX_BUCKETS 100000
#define MAX_RECEIVE_ERRORS 16		/* in a row, before giving up on a packet */

struct run {
	const struct analyze_options *opt;
	struct analysis *a;
	int code;		/* first failure, negative errno; 0 while ok */
	int stop;		/* why decoding stopped early, negative errno; 0 if it did not */
	int64_t deadline_us;
	int64_t next_poll_us;

	struct source src;
	AVIOContext *pb;
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	int stream;

	bool started;		/* the first frame set the reference format */
	struct pcm pcm;
	struct loudness loud;
	struct truepeak tp;
	struct waveform wf;
	struct silence sil;
	float *inter;		/* interleaved copy for libebur128 */
	size_t inter_cap;

	int64_t samples;
	int64_t max_samples;
	int64_t packet_bytes;
	uint64_t packets;
	unsigned errors;
	int64_t first_error_at;	/* samples decoded when the first error came */
	char first_error[160];
	int read_error;		/* demuxer error that ended reading */
	char read_error_text[160];
	int64_t read_error_at;
	bool format_changed;
	bool soft_claim;	/* declared duration from a WAV data size: warn only */
};

void analyze_options_init(struct analyze_options *o)
{
	memset(o, 0, sizeof(*o));
	o->silence_threshold_dbfs = -60.0;
	o->silence_min_us = 20 * USEC_PER_MSEC;
	o->waveform_buckets = 1000;
	o->time_limit_us = 120 * USEC_PER_SEC;
	o->max_duration_us = 12 * 3600 * USEC_PER_SEC;
	o->artwork_max_bytes = 10 * 1024 * 1024;
	o->max_decode_errors = 5;
	o->hash = true;
}

void analysis_init(struct analysis *a)
{
	memset(a, 0, sizeof(*a));
	a->declared_duration_us = -1;
	a->loudness_lufs = -INFINITY;
	a->loudness_range_lu = 0;
	a->true_peak_dbtp = -INFINITY;
	a->sample_peak_dbfs = -INFINITY;
	a->replaygain_track_gain_db = NAN;
}

void analysis_release(struct analysis *a)
{
	tags_release(&a->tags);
	free(a->waveform);
	free(a->artwork);
	analysis_init(a);
}

static void warn(struct analysis *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct analysis *a, const char *fmt, ...)
{
	if (a->n_warnings >= ANALYSIS_WARNINGS_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->warnings[a->n_warnings++], ANALYSIS_WARNING_LEN, fmt, ap);
	va_end(ap);
}

/* Record a failure: the first one gives the reason and the code. */
static int fail(struct run *r, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct run *r, int code, const char *fmt, ...)
{
	if (r->code)
		return r->code;
	r->code = code;
	r->a->ok = false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->a->reason, sizeof(r->a->reason), fmt, ap);
	va_end(ap);
	return code;
}

/* "Invalid data found when processing input (mp3float: Header missing)" */
static void describe(int averr, char *out, size_t size)
{
	char text[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(averr, text, sizeof(text));
	const char *detail = avlog_last_error();
	if (detail[0])
		snprintf(out, size, "%.60s (%.120s)", text, detail);
	else
		snprintf(out, size, "%.60s", text);
}

static double seconds_at(const struct run *r, int64_t samples)
{
	return r->started ? (double)samples / r->pcm.rate : 0.0;
}

static int poll_limits(struct run *r)
{
	int64_t now = time_mono_us();
	if (now > r->deadline_us)
		return -ETIMEDOUT;
	if (r->opt->cancel && now >= r->next_poll_us) {
		r->next_poll_us = now + POLL_US;
		if (r->opt->cancel(r->opt->cancel_opaque))
			return -ECANCELED;
	}
	return 0;
}

/* FFmpeg's interrupt callback: blocking I/O and long probes stop here. */
static int interrupt_cb(void *opaque)
{
	struct run *r = opaque;
	if (!r->stop)
		r->stop = poll_limits(r);
	return r->stop != 0;
}

/* The names of all audio decoders, comma-separated: the codec whitelist
 * of the demuxer, so that probing a hostile file never runs a video
 * decoder (cover pictures are copied, not decoded). Built once. */
static char *audio_decoders;
static pthread_once_t audio_decoders_once = PTHREAD_ONCE_INIT;

static void list_audio_decoders(void)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	void *it = NULL;
	const AVCodec *c;
	while ((c = av_codec_iterate(&it))) {
		if (c->type == AVMEDIA_TYPE_AUDIO && av_codec_is_decoder(c))
			buf_printf(&b, "%s%s", b.len ? "," : "", c->name);
	}
	audio_decoders = buf_detach(&b, NULL);
}

/* No demuxer may open another file or URL (playlists, references). */
static int refuse_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
			  AVDictionary **options)
{
	return AVERROR(EPERM);
}

static int ebu_channel(const AVChannelLayout *layout, int i)
{
	switch (av_channel_layout_channel_from_index(layout, (unsigned)i)) {
	case AV_CHAN_FRONT_LEFT:
		return EBUR128_LEFT;
	case AV_CHAN_FRONT_RIGHT:
		return EBUR128_RIGHT;
	case AV_CHAN_LOW_FREQUENCY:
	case AV_CHAN_LOW_FREQUENCY_2:
		return EBUR128_UNUSED;
	case AV_CHAN_BACK_LEFT:
	case AV_CHAN_SIDE_LEFT:
		return EBUR128_LEFT_SURROUND;
	case AV_CHAN_BACK_RIGHT:
	case AV_CHAN_SIDE_RIGHT:
		return EBUR128_RIGHT_SURROUND;
	default:
		return EBUR128_CENTER;	/* weight 1, as FFmpeg's ebur128 filter */
	}
}

/* The first frame fixes the format every measure works in. */
static int start(struct run *r, const AVFrame *f)
{
	struct analysis *a = r->a;
	pcm_init(&r->pcm, f);
	r->started = true;
	a->sample_rate_hz = r->pcm.rate;
	a->channels = r->pcm.channels;
	if (av_channel_layout_describe(&r->pcm.layout, a->channel_layout,
				       sizeof(a->channel_layout)) < 0)
		a->channel_layout[0] = '\0';
	int map[ANALYZE_MAX_CHANNELS];
	for (int c = 0; c < r->pcm.channels; c++)
		map[c] = ebu_channel(&r->pcm.layout, c);
	if (loudness_init(&r->loud, (unsigned)r->pcm.channels, (unsigned long)r->pcm.rate, map) < 0)
		return fail(r, -ENOMEM, "cannot start the loudness meter");
	truepeak_init(&r->tp, r->pcm.channels);
	waveform_init(&r->wf, r->opt->waveform_buckets ? r->opt->waveform_buckets : 1);
	silence_init(&r->sil, r->opt->silence_threshold_dbfs);
	r->max_samples = av_rescale(r->opt->max_duration_us, r->pcm.rate, USEC_PER_SEC);
	return 0;
}

static void interleave_stereo(const float *l, const float *rt, float *out, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	for (; i + 4 <= n; i += 4) {
		__m128 a = _mm_loadu_ps(l + i), b = _mm_loadu_ps(rt + i);
		_mm_storeu_ps(out + 2 * i, _mm_unpacklo_ps(a, b));
		_mm_storeu_ps(out + 2 * i + 4, _mm_unpackhi_ps(a, b));
	}
#endif
	for (; i < n; i++) {
		out[2 * i] = l[i];
		out[2 * i + 1] = rt[i];
	}
}

/* The slice's planes interleaved (libebur128 takes no planar input). */
static const float *interleaved(struct run *r, const struct pcm_slice *s)
{
	const size_t ch = (size_t)r->pcm.channels;
	size_t need = s->n * ch;
	if (r->inter_cap < need) {
		free(r->inter);
		r->inter = xmalloc(need * sizeof(float));
		r->inter_cap = need;
	}
	float *out = r->inter;
	if (ch == 2) {
		interleave_stereo(s->planes[0], s->planes[1], out, s->n);
		return out;
	}
	for (size_t c = 0; c < ch; c++) {
		const float *src = s->planes[c];
		for (size_t i = 0; i < s->n; i++)
			out[i * ch + c] = src[i];
	}
	return out;
}

static int feed_loudness(struct run *r, const struct pcm_slice *s)
{
	if (s->raw && s->raw_format == AV_SAMPLE_FMT_S16)
		return loudness_add_short(&r->loud, s->raw, s->n);
	if (s->raw && s->raw_format == AV_SAMPLE_FMT_S32)
		return loudness_add_int(&r->loud, s->raw, s->n);
	if (s->raw && s->raw_format == AV_SAMPLE_FMT_FLT)
		return loudness_add_float(&r->loud, s->raw, s->n);
	if (r->pcm.channels == 1)
		return loudness_add_float(&r->loud, s->planes[0], s->n);
	return loudness_add_float(&r->loud, interleaved(r, s), s->n);
}

/* pcm_sink: one slice of decoded audio in the reference format. */
static int on_slice(void *opaque, const struct pcm_slice *s)
{
	struct run *r = opaque;
	if (r->samples + (int64_t)s->n > r->max_samples)
		return -EFBIG;
	if (feed_loudness(r, s) < 0)
		return -ENOMEM;
	float peak = truepeak_add(&r->tp, s->planes, s->n);
	waveform_add(&r->wf, s->planes, r->pcm.channels, s->n);
	silence_add(&r->sil, s->planes, r->pcm.channels, s->n, peak);
	r->samples += (int64_t)s->n;
	return 0;
}

/* A decoded frame: check it, then measure it. 0 or a negative errno
 * that stops decoding. */
static int on_frame(struct run *r, const AVFrame *f)
{
	if (f->nb_samples <= 0)
		return 0;
	int ch = f->ch_layout.nb_channels;
	double at = seconds_at(r, r->samples);
	if (ch < 1 || ch > ANALYZE_MAX_CHANNELS)
		return fail(r, -EBADMSG, "absurd channel count %d at %.1f s", ch, at);
	if (f->sample_rate < ANALYZE_MIN_RATE || f->sample_rate > ANALYZE_MAX_RATE)
		return fail(r, -EBADMSG, "absurd sample rate %d Hz at %.1f s", f->sample_rate, at);
	if (!r->started) {
		int e = start(r, f);
		if (e < 0)
			return e;
	} else if (!pcm_same_format(&r->pcm, f) && !r->format_changed) {
		r->format_changed = true;
		warn(r->a, "the audio changes to %d Hz, %d channels at %.1f s; converted",
		     f->sample_rate, ch, at);
	}
	int e = pcm_convert(&r->pcm, f, on_slice, r);
	if (e == -EFBIG || e == -ENOMEM)
		return e;
	if (e < 0) {
		char text[200];
		describe(e, text, sizeof(text));
		return fail(r, -EBADMSG, "cannot convert the audio at %.1f s: %s", at, text);
	}
	return 0;
}

static void decode_error(struct run *r, int averr)
{
	if (r->errors++ == 0) {
		r->first_error_at = r->samples;
		describe(averr, r->first_error, sizeof(r->first_error));
	}
}

/* Take every frame the decoder has ready. 0, or a negative errno that
 * stops decoding. */
static int receive(struct run *r)
{
	unsigned in_a_row = 0;
	for (;;) {
		int ret = avcodec_receive_frame(r->dec, r->frame);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return 0;
		if (ret == AVERROR(ENOMEM))
			return -ENOMEM;
		if (ret < 0) {
			decode_error(r, ret);
			if (++in_a_row >= MAX_RECEIVE_ERRORS)
				return 0;
			continue;
		}
		in_a_row = 0;
		ret = on_frame(r, r->frame);
		av_frame_unref(r->frame);
		if (ret < 0)
			return ret;
	}
}

static void decode_all(struct run *r)
{
	while (!r->stop && !r->code) {
		int ret = poll_limits(r);
		if (ret < 0) {
			r->stop = ret;
			break;
		}
		avlog_clear();
		ret = av_read_frame(r->fmt, r->pkt);
		if (ret == AVERROR_EOF)
			break;
		if (ret == AVERROR(EAGAIN))
			continue;
		if (ret < 0) {
			if (!r->stop) {
				r->read_error = ret;
				r->read_error_at = r->samples;
				describe(ret, r->read_error_text, sizeof(r->read_error_text));
			}
			break;
		}
		if (r->pkt->stream_index != r->stream) {
			av_packet_unref(r->pkt);
			continue;
		}
		r->packets++;
		r->packet_bytes += r->pkt->size;
		ret = avcodec_send_packet(r->dec, r->pkt);
		av_packet_unref(r->pkt);
		if (ret == AVERROR(ENOMEM)) {
			r->stop = -ENOMEM;
			break;
		}
		if (ret < 0 && ret != AVERROR(EAGAIN))
			decode_error(r, ret);
		ret = receive(r);
		if (ret < 0) {
			r->stop = ret;
			break;
		}
	}
	if (!r->stop && !r->code) {
		avlog_clear();
		if (avcodec_send_packet(r->dec, NULL) == 0) {
			int ret = receive(r);
			if (ret < 0)
				r->stop = ret;
		}
	}
}

static const char *mime_of(enum AVCodecID id, const uint8_t *d, size_t n)
{
	switch (id) {
	case AV_CODEC_ID_MJPEG:
		return "image/jpeg";
	case AV_CODEC_ID_PNG:
		return "image/png";
	case AV_CODEC_ID_GIF:
		return "image/gif";
	case AV_CODEC_ID_BMP:
		return "image/bmp";
	case AV_CODEC_ID_WEBP:
		return "image/webp";
	case AV_CODEC_ID_TIFF:
		return "image/tiff";
	default:
		break;
	}
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return "image/jpeg";
	if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
		return "image/png";
	return "application/octet-stream";
}

/* The front cover if marked, else the first attached picture. */
static void read_artwork(struct run *r)
{
	AVStream *best = NULL;
	for (unsigned i = 0; i < r->fmt->nb_streams; i++) {
		AVStream *st = r->fmt->streams[i];
		if (!(st->disposition & AV_DISPOSITION_ATTACHED_PIC) || st->attached_pic.size <= 0)
			continue;
		const AVDictionaryEntry *e = av_dict_get(st->metadata, "comment", NULL, 0);
		bool front = e && strcmp(e->value, "Cover (front)") == 0;
		if (!best || front)
			best = st;
		if (front)
			break;
	}
	if (!best)
		return;
	size_t n = (size_t)best->attached_pic.size;
	if (n > r->opt->artwork_max_bytes) {
		warn(r->a, "artwork of %zu bytes left out (limit %zu)", n,
		     r->opt->artwork_max_bytes);
		return;
	}
	r->a->artwork = xmalloc(n);
	memcpy(r->a->artwork, best->attached_pic.data, n);
	r->a->artwork_bytes = n;
	snprintf(r->a->artwork_mime, sizeof(r->a->artwork_mime), "%s",
		 mime_of(best->codecpar->codec_id, r->a->artwork, n));
}

/* Duration the container declares, unless FFmpeg only guessed it from
 * the bitrate; -1 when none. */
static int64_t declared_duration(const AVFormatContext *fmt, const AVStream *st)
{
	if (fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE)
		return -1;
	int64_t d = -1;
	if (st->duration != AV_NOPTS_VALUE && st->duration > 0 && st->time_base.num > 0 &&
	    st->time_base.den > 0)
		d = av_rescale_q(st->duration, st->time_base, AV_TIME_BASE_Q);
	else if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0)
		d = fmt->duration;
	return d > 0 ? d : -1;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* What a WAV's data chunk declares, in microseconds, when it is more
 * than the file holds; -1 otherwise. FFmpeg quietly reads what is there,
 * so the claim is read here from the first 4 KiB. */
static int64_t wav_overclaim(struct source *src)
{
	uint8_t h[4096];
	ssize_t got = source_pread(src, h, sizeof(h), 0);
	if (got < 12 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
		return -1;
	size_t n = (size_t)got, off = 12;
	uint32_t rate = 0, align = 0;
	while (off + 8 <= n) {
		uint32_t size = le32(h + off + 4);
		if (memcmp(h + off, "fmt ", 4) == 0 && off + 8 + 16 <= n) {
			rate = le32(h + off + 12);
			align = (uint32_t)h[off + 20] | (uint32_t)h[off + 21] << 8;
		} else if (memcmp(h + off, "data", 4) == 0) {
			/* 0 and 0xffffffff are what streaming writers leave. */
			if (!rate || !align || size == 0 || size == UINT32_MAX ||
			    (int64_t)(off + 8) + size <= src->size)
				return -1;
			return av_rescale(size / align, USEC_PER_SEC, rate);
		}
		if (size > n)
			break;
		off += 8 + (size_t)size + (size & 1);
	}
	return -1;
}

/* Open the container and pick the audio stream and its decoder. */
static int open_media(struct run *r, const char *name)
{
	struct analysis *a = r->a;
	uint8_t *iobuf = av_malloc(SOURCE_CHUNK);
	if (!iobuf)
		return fail(r, -ENOMEM, "out of memory");
	r->pb = avio_alloc_context(iobuf, SOURCE_CHUNK, 0, &r->src, source_read, NULL,
				   source_seek);
	if (!r->pb) {
		av_free(iobuf);
		return fail(r, -ENOMEM, "out of memory");
	}
	r->fmt = avformat_alloc_context();
	if (!r->fmt)
		return fail(r, -ENOMEM, "out of memory");
	r->fmt->pb = r->pb;
	r->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	r->fmt->interrupt_callback.callback = interrupt_cb;
	r->fmt->interrupt_callback.opaque = r;
	r->fmt->io_open = refuse_io_open;
	AVDictionary *opts = NULL;
	av_dict_set(&opts, "format_whitelist", AUDIO_DEMUXERS, 0);
	pthread_once(&audio_decoders_once, list_audio_decoders);
	av_dict_set(&opts, "codec_whitelist", audio_decoders, 0);
	avlog_clear();
	int ret = avformat_open_input(&r->fmt, name ? name : "", NULL, &opts);
	av_dict_free(&opts);
	if (ret < 0) {
		/* r->fmt was freed and set to NULL. */
		if (r->stop)
			return r->stop;
		if (r->src.err)
			return fail(r, r->src.err, "cannot read the file: %s",
				    onair_strerror(r->src.err));
		char text[200];
		describe(ret, text, sizeof(text));
		return fail(r, -EBADMSG, "not a supported audio file: %s", text);
	}
	snprintf(a->container, sizeof(a->container), "%s", r->fmt->iformat->name);

	avlog_clear();
	ret = avformat_find_stream_info(r->fmt, NULL);
	if (r->stop)
		return r->stop;
	if (ret < 0)
		log_debug("analyze", "stream info incomplete: %s", av_err2str(ret));

	const AVCodec *codec = NULL;
	int idx = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	if (idx == AVERROR_DECODER_NOT_FOUND) {
		idx = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
		if (idx >= 0)
			return fail(r, -EBADMSG, "unsupported codec '%s'",
				    avcodec_get_name(r->fmt->streams[idx]->codecpar->codec_id));
	}
	if (idx < 0 || !codec)
		return fail(r, -EBADMSG, "no audio stream");
	r->stream = idx;
	AVStream *st = r->fmt->streams[idx];
	snprintf(a->codec, sizeof(a->codec), "%s", avcodec_get_name(st->codecpar->codec_id));
	tags_read(&a->tags, r->fmt->metadata, st->metadata);
	read_artwork(r);
	a->declared_duration_us = declared_duration(r->fmt, st);
	if (strcmp(r->fmt->iformat->name, "wav") == 0) {
		int64_t claim = wav_overclaim(&r->src);
		if (claim > 0) {
			a->declared_duration_us = claim;
			r->soft_claim = true;
		}
	}
	for (unsigned i = 0; i < r->fmt->nb_streams; i++) {
		if ((int)i != idx)
			r->fmt->streams[i]->discard = AVDISCARD_ALL;
	}

	int ch = st->codecpar->ch_layout.nb_channels;
	int rate = st->codecpar->sample_rate;
	if (ch < 0 || ch > ANALYZE_MAX_CHANNELS)
		return fail(r, -EBADMSG, "absurd channel count %d", ch);
	if (rate < 0 || rate > ANALYZE_MAX_RATE || (rate > 0 && rate < ANALYZE_MIN_RATE))
		return fail(r, -EBADMSG, "absurd sample rate %d Hz", rate);

	r->dec = avcodec_alloc_context3(codec);
	if (!r->dec)
		return fail(r, -ENOMEM, "out of memory");
	ret = avcodec_parameters_to_context(r->dec, st->codecpar);
	if (ret >= 0) {
		r->dec->pkt_timebase = st->time_base;
		r->dec->thread_count = 1;
		avlog_clear();
		ret = avcodec_open2(r->dec, codec, NULL);
	}
	if (ret < 0) {
		char text[200];
		describe(ret, text, sizeof(text));
		return fail(r, -EBADMSG, "cannot open the %s decoder: %s", a->codec, text);
	}
	r->pkt = av_packet_alloc();
	r->frame = av_frame_alloc();
	if (!r->pkt || !r->frame)
		return fail(r, -ENOMEM, "out of memory");
	return 0;
}

static int stop_reason(struct run *r, int stop)
{
	double at = seconds_at(r, r->samples);
	switch (stop) {
	case -ETIMEDOUT:
		return fail(r, stop, "analysis took longer than %.0f s (stopped at %.1f s of "
			    "audio)", (double)r->opt->time_limit_us / USEC_PER_SEC, at);
	case -ECANCELED:
		return fail(r, stop, "cancelled");
	case -EFBIG:
		return fail(r, stop, "longer than the limit of %.0f s",
			    (double)r->opt->max_duration_us / USEC_PER_SEC);
	case -ENOMEM:
		return fail(r, stop, "out of memory at %.1f s", at);
	default:
		return fail(r, stop, "stopped at %.1f s: %s", at, onair_strerror(stop));
	}
}

static double db(double linear)
{
	return linear > 0 ? 20.0 * log10(linear) : -INFINITY;
}

/* Fill the measurements from what was decoded. */
static void results(struct run *r)
{
	struct analysis *a = r->a;
	const struct analyze_options *opt = r->opt;
	int rate = r->pcm.rate;
	a->samples = r->samples;
	a->duration_us = av_rescale(r->samples, USEC_PER_SEC, rate);
	if (a->duration_us > 0)
		a->bitrate_bps = av_rescale(r->packet_bytes, 8 * USEC_PER_SEC, a->duration_us);

	double integrated, range;
	loudness_result(&r->loud, &integrated, &range);
	if (isfinite(integrated)) {
		a->loudness_lufs = integrated;
		a->replaygain_track_gain_db = -18.0 - integrated;
	}
	a->loudness_range_lu = range;
	a->true_peak_dbtp = db(truepeak_finish(&r->tp));
	a->sample_peak_dbfs = db(waveform_absmax(&r->wf));
	log_debug("analyze", "true peak: %llu of %llu blocks oversampled",
		  (unsigned long long)r->tp.blocks_filtered, (unsigned long long)r->tp.blocks);

	a->cue_in_us = 0;
	a->cue_out_us = a->duration_us;
	if (r->sil.first < 0) {
		a->silent = true;
		warn(a, "silent: no sample above %.1f dBFS", opt->silence_threshold_dbfs);
	} else {
		int64_t in = av_rescale(r->sil.first, USEC_PER_SEC, rate);
		int64_t out = av_rescale(r->sil.last + 1, USEC_PER_SEC, rate);
		if (in >= opt->silence_min_us)
			a->cue_in_us = in;
		if (a->duration_us - out >= opt->silence_min_us)
			a->cue_out_us = out;
	}

	if (opt->waveform_buckets) {
		a->waveform = xcalloc(opt->waveform_buckets, sizeof(*a->waveform));
		if (waveform_finish(&r->wf, opt->waveform_buckets, a->waveform)) {
			a->waveform_buckets = opt->waveform_buckets;
		} else {
			free(a->waveform);
			a->waveform = NULL;
		}
	}
	if (r->pcm.nonfinite)
		warn(a, "%llu invalid (NaN or infinite) samples replaced with silence",
		     (unsigned long long)r->pcm.nonfinite);
}

/* Decide ok / not ok from how decoding went. */
static void verdict(struct run *r)
{
	struct analysis *a = r->a;
	if (r->stop)
		stop_reason(r, r->stop);
	if (r->read_error) {
		if (r->src.err)
			fail(r, r->src.err, "read error at %.1f s: %s",
			     seconds_at(r, r->read_error_at), onair_strerror(r->src.err));
		else
			fail(r, -EBADMSG, "demuxer error at %.1f s: %s",
			     seconds_at(r, r->read_error_at), r->read_error_text);
	}
	if (r->samples == 0) {
		if (r->errors)
			fail(r, -EBADMSG, "no audio decoded (decoder error: %s)", r->first_error);
		else
			fail(r, -EBADMSG, "no audio decoded");
		return;
	}
	if (r->errors > r->opt->max_decode_errors ||
	    (r->errors > 1 && (uint64_t)r->errors * 100 > r->packets)) {
		fail(r, -EBADMSG, "decoder error at %.1f s: %s (%u errors in %llu packets)",
		     seconds_at(r, r->first_error_at), r->first_error, r->errors,
		     (unsigned long long)r->packets);
	} else if (r->errors) {
		warn(a, "%u decoder error%s, first at %.1f s: %s", r->errors,
		     r->errors == 1 ? "" : "s", seconds_at(r, r->first_error_at), r->first_error);
	}
	if (a->declared_duration_us > 0 && !r->stop) {
		double declared = (double)a->declared_duration_us / USEC_PER_SEC;
		double decoded = (double)a->duration_us / USEC_PER_SEC;
		int64_t tolerance = a->declared_duration_us / 50 > USEC_PER_SEC
					    ? a->declared_duration_us / 50
					    : USEC_PER_SEC;
		int64_t missing = a->declared_duration_us - a->duration_us;
		if (missing > tolerance && r->soft_claim)
			warn(a, "truncated? holds %.1f s of the %.1f s its WAV header declares",
			     decoded, declared);
		else if (missing > tolerance)
			fail(r, -EBADMSG, "truncated: decodes to %.1f s of the %.1f s its header "
			     "declares", decoded, declared);
		else if (-missing > tolerance)
			warn(a, "decodes to %.1f s but its header declares %.1f s", decoded,
			     declared);
	}
}

static void run_release(struct run *r)
{
	if (r->started) {
		loudness_release(&r->loud);
		truepeak_release(&r->tp);
		waveform_release(&r->wf);
		pcm_release(&r->pcm);
	}
	free(r->inter);
	av_frame_free(&r->frame);
	av_packet_free(&r->pkt);
	avcodec_free_context(&r->dec);
	avformat_close_input(&r->fmt);
	if (r->pb) {
		av_freep(&r->pb->buffer);
		avio_context_free(&r->pb);
	}
	source_close(&r->src);
}

/* Everything after the source is open. */
static int analyze_source(struct run *r, const char *name)
{
	struct analysis *a = r->a;
	if (r->src.size == 0) {
		fail(r, -EBADMSG, "empty file");
	} else if (open_media(r, name) == 0) {
		decode_all(r);
		if (r->started && r->samples > 0)
			results(r);
		verdict(r);
	} else if (r->stop) {
		stop_reason(r, r->stop);
	}
	if (r->opt->hash && r->code != -ETIMEDOUT && r->code != -ECANCELED) {
		int e = source_hash_finish(&r->src, a->content_hash, sizeof(a->content_hash));
		if (e == -ETIMEDOUT)
			stop_reason(r, e);
		else if (e < 0)
			fail(r, e, "read error: %s", onair_strerror(e));
	}
	run_release(r);
	if (!r->code)
		a->ok = true;
	return r->code;
}

static void run_init(struct run *r, const struct analyze_options *opt,
		     struct analyze_options *fixed, struct analysis *a)
{
	if (opt)
		*fixed = *opt;
	else
		analyze_options_init(fixed);
	struct analyze_options def;
	analyze_options_init(&def);
	if (fixed->time_limit_us <= 0)
		fixed->time_limit_us = def.time_limit_us;
	if (fixed->max_duration_us <= 0)
		fixed->max_duration_us = def.max_duration_us;
	if (fixed->waveform_buckets > MAX_BUCKETS)
		fixed->waveform_buckets = MAX_BUCKETS;
	if (!isfinite(fixed->silence_threshold_dbfs))
		fixed->silence_threshold_dbfs = def.silence_threshold_dbfs;
	memset(r, 0, sizeof(*r));
	r->opt = fixed;
	r->a = a;
	r->stream = -1;
	r->deadline_us = time_mono_us() + fixed->time_limit_us;
	r->next_poll_us = 0;
	analysis_init(a);
	avlog_setup();
	avlog_clear();
}

int analyze_file(const char *path, const struct analyze_options *opt, struct analysis *a)
{
	struct analyze_options fixed;
	struct run r;
	run_init(&r, opt, &fixed, a);
	int e = source_open_file(&r.src, path, fixed.hash, r.deadline_us);
	if (e < 0) {
		if (e == -EINVAL)
			return fail(&r, e, "not a regular file");
		return fail(&r, e, "cannot open: %s", onair_strerror(e));
	}
	return analyze_source(&r, path);
}

int analyze_buffer(const void *data, size_t size, const char *name,
		   const struct analyze_options *opt, struct analysis *a)
{
	struct analyze_options fixed;
	struct run r;
	run_init(&r, opt, &fixed, a);
	source_open_buffer(&r.src, data, size, fixed.hash, r.deadline_us);
	return analyze_source(&r, name);
}
