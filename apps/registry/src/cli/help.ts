/** The `stowage` CLI's help texts: `stowage --help` and `stowage <command> --help`. */

export const COMMANDS = ["serve", "garbage-collect", "purge-uploads"] as const;
export type Command = (typeof COMMANDS)[number];

const CONFIG_FLAGS = `configuration flags (override the file and REGISTRY_* environment variables):
  --root <dir>                use the filesystem driver rooted at <dir>
  --inmemory                  use the in-memory driver (data is lost on exit)
  --log-level <level>         log.level: error, warn, info, debug`;

export const USAGE = `usage: stowage <command> [config.yml] [flags]

commands:
  serve [config.yml]            run the registry (defaults: filesystem under ./data, 127.0.0.1:5000)
  garbage-collect [config.yml]  delete blobs nothing references, while registries keep serving
  purge-uploads [config.yml]    remove abandoned uploads once, then exit

Run 'stowage <command> --help' for a command's flags. The config file may also be given as
REGISTRY_CONFIGURATION_PATH.`;

export const COMMAND_HELP: Record<Command, string> = {
	serve: `usage: stowage serve [config.yml] [flags]

Run the registry: the OCI Distribution API on http.addr, until SIGTERM or SIGINT (in-flight
requests finish first, up to http.draintimeout).

flags:
  --addr <host:port>          http.addr
  --host <url>                http.host, the base URL of Location headers
  --delete                    storage.delete.enabled: allow DELETE of blobs and manifests
  --read-only                 storage.maintenance.readonly.enabled
${CONFIG_FLAGS}`,

	"garbage-collect": `usage: stowage garbage-collect [config.yml] [flags]

Mark every blob reachable from any repository's manifests (image manifests, indexes and their
children, referrers and their subjects, configs, layers), then delete the blobs nothing
references, the repositories' layer links no manifest of theirs uses, and empty directories.
Registries may keep serving pushes meanwhile: anything written within the grace period, or
referenced while the collection runs, is kept.

flags:
  --dry-run                   list what would be deleted; write and delete nothing
  --delete-untagged           also delete manifests no tag reaches (through an index, subject
                              or referrer), then what only they referenced
  --grace <duration>          keep what was written less than this long ago (default:
                              storage.maintenance.garbagecollect.grace, 1h)
  --quiet                     no progress and no per-item lines, only the summary
${CONFIG_FLAGS}

Progress goes to stderr as a bar on a terminal, otherwise as log lines every 10 s. Exit status:
0 done, 1 failed or another collection is running, 130 interrupted.`,

	"purge-uploads": `usage: stowage purge-uploads [config.yml] [flags]

Remove uploads started longer ago than the cut-off and never finished, aborting their multipart
sessions on cloud storage. An upload without a readable start time (left by a crash) is dated by
its newest file.

flags:
  --older-than <duration>     age cut-off (default: storage.maintenance.uploadpurging.age, 168h)
  --dry-run                   list what would be removed; remove nothing
  --quiet                     no progress and no per-upload lines, only the summary
${CONFIG_FLAGS}

Progress goes to stderr as a bar on a terminal, otherwise as log lines every 10 s. Exit status:
0 done, 1 some upload could not be removed, 130 interrupted.`,
};
