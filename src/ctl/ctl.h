/* ctl.h: the commands of kancactl's table, each defined in its command file (events.c, source.c, secret.c,
 * processing.c, spool.c, doctor.c); they share only util.h, never each other. */
#ifndef KANCA_CTL_H
#define KANCA_CTL_H

struct app;

int ctl_migrate(struct app *a, int argc, char **argv);
int ctl_source_add(struct app *a, int argc, char **argv);
int ctl_source_list(struct app *a, int argc, char **argv);
int ctl_source_enable(struct app *a, int argc, char **argv);
int ctl_source_disable(struct app *a, int argc, char **argv);
int ctl_secret_add(struct app *a, int argc, char **argv);
int ctl_secret_list(struct app *a, int argc, char **argv);
int ctl_secret_remove(struct app *a, int argc, char **argv);
int ctl_secret_expire(struct app *a, int argc, char **argv);
int ctl_worker(struct app *a, int argc, char **argv);
int ctl_replay(struct app *a, int argc, char **argv);
int ctl_action_enable(struct app *a, int argc, char **argv);
int ctl_action_disable(struct app *a, int argc, char **argv);
int ctl_purge(struct app *a, int argc, char **argv);
int ctl_action_add(struct app *a, int argc, char **argv);
int ctl_action_list(struct app *a, int argc, char **argv);
int ctl_action_remove(struct app *a, int argc, char **argv);
int ctl_events(struct app *a, int argc, char **argv);
int ctl_event_show(struct app *a, int argc, char **argv);
int ctl_stats(struct app *a, int argc, char **argv);
int ctl_audit(struct app *a, int argc, char **argv);
/* kancactl spool status: loads the configuration itself (a->config_path only), never the store, so that it
 * answers while the store is broken. */
int ctl_spool_status(struct app *a, int argc, char **argv);
int ctl_spool_drain(struct app *a, int argc, char **argv);
/* kancactl doctor: loads the configuration itself (a->config_path, NULL = the default path; nothing else
 * of a is set) to report its problems as findings. CTL_OK when nothing failed, CTL_FAIL otherwise,
 * CTL_USAGE. */
int ctl_doctor(struct app *a, int argc, char **argv);

#endif
