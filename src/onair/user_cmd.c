/*
 * user_cmd.c - "onair user"; see user_cmd.h.
 */
#include "onair/user_cmd.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "db/migrations.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024
#define NAME_MAX_LEN 64

static const char usage[] =
	"Usage: onair user add NAME --role ROLE [--email ADDRESS] [--display-name TEXT]\n"
	"       onair user passwd NAME\n"
	"       onair user disable NAME | enable NAME\n"
	"       onair user list\n"
	"ROLE: admin, program_manager, host or guest. The password is read from\n"
	"standard input (asked twice on a terminal), at least 8 characters.\n";

static bool valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool valid_role(const char *r)
{
	return r && (strcmp(r, "admin") == 0 || strcmp(r, "program_manager") == 0 ||
		     strcmp(r, "host") == 0 || strcmp(r, "guest") == 0);
}

/* One line of standard input into pw, without its newline; on a
 * terminal, prompt without echo. 0, or -EINVAL (nothing read). */
static int read_line(const char *prompt, char pw[PASSWORD_MAX + 2])
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			tty = false;
		}
	}
	char *got = fgets(pw, PASSWORD_MAX + 2, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return -EINVAL;
	pw[strcspn(pw, "\r\n")] = '\0';
	return 0;
}

/* The password from standard input, hashed into hash. 0, or 1 / 2 as
 * exit codes after saying why. */
static int ask_password(char hash[crypto_pwhash_STRBYTES])
{
	char pw[PASSWORD_MAX + 2], again[PASSWORD_MAX + 2];
	int code = EXIT_USAGE;
	if (read_line("Password: ", pw) < 0) {
		fprintf(stderr, "onair user: give the password on standard input\n");
		goto out_wipe;
	}
	if (isatty(STDIN_FILENO)) {
		if (read_line("Again: ", again) < 0 || strcmp(pw, again) != 0) {
			fprintf(stderr, "onair user: the passwords differ\n");
			goto out_wipe;
		}
	}
	size_t n = strlen(pw);
	if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
		fprintf(stderr, "onair user: a password has %d to %d characters\n", PASSWORD_MIN,
			PASSWORD_MAX);
		goto out_wipe;
	}
	if (sodium_init() < 0 ||
	    crypto_pwhash_str(hash, pw, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		fprintf(stderr, "onair user: cannot hash the password (out of memory)\n");
		code = EXIT_FAILURE;
		goto out_wipe;
	}
	code = 0;
out_wipe:
	sodium_memzero(pw, sizeof(pw));
	sodium_memzero(again, sizeof(again));
	return code;
}

static void audit(struct db *db, const char *action, const char *name)
{
	db_exec(db,
		"INSERT INTO audit_log (at, actor, action, entity, entity_id) VALUES ($1, 'cli', $2,"
		" 'user', $3)",
		DB_PARAMS(DB_I(time_now_us()), DB_T(action), DB_T(name)));
}

static int cmd_add(struct db *db, int argc, char **argv)
{
	enum { OPT_ROLE = 256, OPT_EMAIL, OPT_DISPLAY };
	static const struct option opts[] = {
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "email", required_argument, NULL, OPT_EMAIL },
		{ "display-name", required_argument, NULL, OPT_DISPLAY },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = NULL, *email = NULL, *display = "";
	int c;
	optind = 0;	/* a full restart of getopt, so NAME may come before the options */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == OPT_ROLE)
			role = optarg;
		else if (c == OPT_EMAIL)
			email = optarg;
		else if (c == OPT_DISPLAY)
			display = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind != argc - 1 || !valid_role(role)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[optind];
	if (!valid_name(name)) {
		fprintf(stderr, "onair user: a name has 1 to %d of A-Z a-z 0-9 . _ -\n",
			NAME_MAX_LEN);
		return EXIT_USAGE;
	}
	if (email && (!strchr(email, '@') || strlen(email) > 254)) {
		fprintf(stderr, "onair user: '%s' is not an e-mail address\n", email);
		return EXIT_USAGE;
	}
	char hash[crypto_pwhash_STRBYTES];
	int code = ask_password(hash);
	if (code)
		return code;
	int r = db_exec(db,
			"INSERT INTO users (name, email, display_name, role, password_hash,"
			" created_at) VALUES ($1, $2, $3, $4, $5, $6)",
			DB_PARAMS(DB_T(name), DB_T(email), DB_T(display), DB_T(role), DB_T(hash),
				  DB_I(time_now_us())));
	if (r == -EEXIST) {
		fprintf(stderr, "onair user: a user named '%s'%s already exists\n", name,
			email ? " or with that e-mail address" : "");
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "onair user: %s\n", db_errmsg(db));
		return EXIT_FAILURE;
	}
	audit(db, "user.add", name);
	printf("user '%s' added (%s)\n", name, role);
	return EXIT_SUCCESS;
}

static int cmd_passwd(struct db *db, const char *name)
{
	char hash[crypto_pwhash_STRBYTES];
	int code = ask_password(hash);
	if (code)
		return code;
	int r = db_exec(db, "UPDATE users SET password_hash = $1 WHERE lower(name) = lower($2)",
			DB_PARAMS(DB_T(hash), DB_T(name)));
	if (r == 0) {
		fprintf(stderr, "onair user: no user named '%s'\n", name);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "onair user: %s\n", db_errmsg(db));
		return EXIT_FAILURE;
	}
	/* A new password ends every session of the account. */
	db_exec(db, "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE"
		    " lower(name) = lower($1))",
		DB_PARAMS(DB_T(name)));
	audit(db, "user.passwd", name);
	printf("password of '%s' changed\n", name);
	return EXIT_SUCCESS;
}

static int cmd_disable(struct db *db, const char *name, bool disable)
{
	int r = db_exec(db, "UPDATE users SET disabled = $1 WHERE lower(name) = lower($2)",
			DB_PARAMS(DB_B(disable), DB_T(name)));
	if (r == 0) {
		fprintf(stderr, "onair user: no user named '%s'\n", name);
		return EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "onair user: %s\n", db_errmsg(db));
		return EXIT_FAILURE;
	}
	if (disable)
		db_exec(db, "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE"
			    " lower(name) = lower($1))",
			DB_PARAMS(DB_T(name)));
	audit(db, disable ? "user.disable" : "user.enable", name);
	printf("user '%s' %s\n", name, disable ? "disabled" : "enabled");
	return EXIT_SUCCESS;
}

static int cmd_list(struct db *db)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT name, role, disabled, password_hash IS NOT NULL, email FROM users"
			 " ORDER BY lower(name)",
			 NULL, 0, &rows);
	if (r < 0) {
		fprintf(stderr, "onair user: %s\n", db_errmsg(db));
		return EXIT_FAILURE;
	}
	while (db_rows_next(rows)) {
		const char *email = db_col_text(rows, 4);
		printf("%-24s %-16s%s%s%s%s\n", db_col_text(rows, 0), db_col_text(rows, 1),
		       db_col_bool(rows, 2) ? " disabled" : "",
		       db_col_bool(rows, 3) ? "" : " no-password", email ? " " : "",
		       email ? email : "");
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int user_command(const struct config *cfg, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_SUCCESS;
	}
	const char *sub = argv[1];
	bool one_name = strcmp(sub, "passwd") == 0 || strcmp(sub, "disable") == 0 ||
			strcmp(sub, "enable") == 0;
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 && !one_name) {
		fprintf(stderr, "onair user: unknown command '%s'\n%s", sub, usage);
		return EXIT_USAGE;
	}
	if ((one_name && argc != 3) || (strcmp(sub, "list") == 0 && argc != 2)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	struct db *db;
	char err[512];
	int r = db_open(&db, config_get(cfg, "database.url"), err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "onair user: database: %s\n", err[0] ? err : onair_strerror(r));
		return EXIT_FAILURE;
	}
	int code = EXIT_FAILURE;
	if ((r = db_migrate(db, NULL, NULL)) < 0) {
		fprintf(stderr, "onair user: database schema: %s\n", db_errmsg(db));
		goto out_close;
	}
	if (strcmp(sub, "add") == 0)
		code = cmd_add(db, argc - 1, argv + 1);
	else if (strcmp(sub, "list") == 0)
		code = cmd_list(db);
	else if (strcmp(sub, "passwd") == 0)
		code = cmd_passwd(db, argv[2]);
	else
		code = cmd_disable(db, argv[2], strcmp(sub, "disable") == 0);
out_close:
	db_close(db);
	return code;
}
