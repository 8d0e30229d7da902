// pubsub_fanout: used by scripts/bench.sh (pubsub suite) to time PUBLISH fan-out.
//
//   pubsub_fanout PORT [-s SUBSCRIBERS] [-p PUBLISHERS] [-n MESSAGES] [-d PAYLOAD_BYTES]
//                      [-w IN_FLIGHT] [-c CHANNEL] [-t TIMEOUT_S] [-r READER_THREADS]
//   defaults:           -s 50           -p 1           -n 100000     -d 16
//                      -w 64         -c bench:fanout  -t 120        -r 1
//
// Opens SUBSCRIBERS connections to 127.0.0.1:PORT, each SUBSCRIBEd to CHANNEL, and waits until
// PUBSUB NUMSUB CHANNEL shows all of them. Then PUBLISHERS connections (one thread each) send
// MESSAGES PUBLISHes between them, each keeping IN_FLIGHT commands pipelined. A message body is
// "<publisher>:<sequence>", the sequence zero-padded so that the body is PAYLOAD_BYTES long.
// Every PUBLISH must reply SUBSCRIBERS (the number of receivers). READER_THREADS threads read
// the subscriber sockets (each an epoll set over its share, non-blocking, 256 KB reads, a small
// parser of the push frames that allocates nothing) and check that each subscriber gets every
// message of every publisher, in order. hiredis does the connections, SUBSCRIBE, PUBSUB NUMSUB
// and the publishers' commands and replies.
//
// The time runs from the first PUBLISH until every subscriber has received all the messages.
// On success prints one line:
//   <seconds> <deliveries/s> <tool CPU s in that time> <seconds until the last PUBLISH reply>
// where deliveries = MESSAGES x SUBSCRIBERS. Exit status: 0 success; 1 failure (a wrong or
// missing message, a wrong reply, a dropped connection, the timeout; the reason on stderr);
// 3 usage. Built by scripts/bench.sh with g++ -lhiredis.
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

struct Options {
  int port = 0;
  int subscribers = 50;
  int publishers = 1;
  long long messages = 100000;
  int payload = 16;
  int window = 64;
  std::string channel = "bench:fanout";
  int timeout_s = 120;
  int readers = 1;
};

double Mono() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::atomic<bool> g_publisher_failed{false};  // stops the subscribers' wait early

[[noreturn]] void Fail(const std::string& why) {
  std::fprintf(stderr, "pubsub_fanout: %s\n", why.c_str());
  std::exit(1);
}

redisContext* Connect(int port) {
  timeval tv{5, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err) {
    Fail("cannot connect to 127.0.0.1:" + std::to_string(port) + ": " + (c ? c->errstr : "out of memory"));
  }
  return c;
}

// Messages of publisher `pub`: body = "<pub>:" + sequence zero-padded to `payload` bytes.
std::string Body(const Options& o, int pub, long long seq) {
  std::string prefix = std::to_string(pub) + ":";
  std::string digits = std::to_string(seq);
  size_t width = static_cast<size_t>(o.payload) - prefix.size();
  return prefix + std::string(width - digits.size(), '0') + digits;
}

long long Share(const Options& o, int pub) {  // messages sent by publisher `pub`
  return o.messages / o.publishers + (pub < o.messages % o.publishers ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// Subscribers. hiredis sends SUBSCRIBE; after that the sockets are read raw (non-blocking, big
// reads) and the pushes parsed here: hiredis's reader allocates a reply object per message and
// moves its buffer down after every reply, which would make the tool the bottleneck.

struct Sub {
  const Options* o = nullptr;
  int index = 0;
  redisContext* c = nullptr;
  std::vector<long long> next;  // next expected sequence, per publisher
  long long got = 0;
  std::vector<char> buf;  // bytes read and not parsed yet: [0, len)
  size_t len = 0;
  bool done() const { return got == o->messages; }
  [[noreturn]] void Bad(const std::string& why) const {
    Fail("subscriber " + std::to_string(index) + " (after " + std::to_string(got) + " messages): " + why);
  }
};

// Parses "$<n>\r\n<n bytes>\r\n" at p; false if incomplete.
bool Bulk(const Sub& s, const char*& p, const char* end, std::string_view* out) {
  if (p >= end) return false;
  if (*p != '$') s.Bad("expected a bulk string, got '" + std::string(p, std::min<size_t>(end - p, 40)) + "'");
  const char* q = p + 1;
  size_t n = 0;
  while (q < end && *q >= '0' && *q <= '9') n = n * 10 + static_cast<size_t>(*q++ - '0');
  if (end - q < 2) return false;
  if (q[0] != '\r' || q[1] != '\n' || q == p + 1) s.Bad("malformed bulk string length");
  q += 2;
  if (static_cast<size_t>(end - q) < n + 2) return false;
  if (q[n] != '\r' || q[n + 1] != '\n') s.Bad("bulk string without its CRLF");
  *out = std::string_view(q, n);
  p = q + n + 2;
  return true;
}

// Consumes every complete message in s.buf, checking each.
void Parse(Sub& s) {
  const char* p = s.buf.data();
  const char* end = p + s.len;
  for (;;) {
    const char* q = p;
    if (end - q < 4) break;
    if (q[0] != '*' || q[1] != '3' || q[2] != '\r' || q[3] != '\n') {
      s.Bad("expected a 3-element push, got '" + std::string(q, std::min<size_t>(end - q, 40)) + "'");
    }
    q += 4;
    std::string_view kind, chan, body;
    if (!Bulk(s, q, end, &kind) || !Bulk(s, q, end, &chan) || !Bulk(s, q, end, &body)) break;
    if (kind != "message") s.Bad("push of kind '" + std::string(kind.substr(0, 40)) + "', expected 'message'");
    if (chan != s.o->channel) s.Bad("message on channel '" + std::string(chan.substr(0, 100)) + "'");
    size_t colon = body.find(':');
    long long pub = -1, seq = -1;
    if (colon != std::string_view::npos) {
      std::from_chars(body.data(), body.data() + colon, pub);
      std::from_chars(body.data() + colon + 1, body.data() + body.size(), seq);
    }
    if (body.size() != static_cast<size_t>(s.o->payload) || pub < 0 || pub >= s.o->publishers || seq < 0) {
      s.Bad("malformed message body '" + std::string(body.substr(0, 100)) + "'");
    }
    if (seq != s.next[pub]) {
      s.Bad("publisher " + std::to_string(pub) + ": got message " + std::to_string(seq) + ", expected " +
            std::to_string(s.next[pub]));
    }
    ++s.next[pub];
    ++s.got;
    p = q;
  }
  s.len = static_cast<size_t>(end - p);
  std::memmove(s.buf.data(), p, s.len);
}

// Reads the subscribers subs[i] for i = first, first + step, ... until each has all messages;
// stores the time the last of them got its last message in *last.
void ReadSubscribers(std::vector<Sub>& subs, size_t first, size_t step, double deadline, double* last) {
  int ep = epoll_create1(0);
  if (ep < 0) Fail(std::string("epoll_create1: ") + std::strerror(errno));
  size_t left = 0;
  for (size_t i = first; i < subs.size(); i += step) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, subs[i].c->fd, &ev) != 0) Fail(std::string("epoll_ctl: ") + std::strerror(errno));
    ++left;
  }
  std::vector<epoll_event> evs(left + 1);
  *last = Mono();
  while (left > 0) {
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    if (n < 0 && errno != EINTR) Fail(std::string("epoll_wait: ") + std::strerror(errno));
    for (int k = 0; k < n; ++k) {
      Sub& s = subs[evs[k].data.u64];
      ssize_t r = read(s.c->fd, s.buf.data() + s.len, s.buf.size() - s.len);
      if (r == 0) s.Bad("the server closed the connection");
      if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        s.Bad(std::string("read: ") + std::strerror(errno));
      }
      bool was_done = s.done();
      s.len += static_cast<size_t>(r);
      Parse(s);
      if (s.got > s.o->messages) s.Bad("more messages than were published");
      if (!was_done && s.done()) {
        --left;
        *last = Mono();
      }
    }
    if (g_publisher_failed.load()) break;  // main reports the publisher's error
    if (left > 0 && Mono() > deadline) {
      std::string counts;
      for (size_t i = first; i < subs.size(); i += step) counts += " " + std::to_string(subs[i].got);
      Fail("timeout: " + std::to_string(left) + " subscribers still lack messages (messages received:" + counts + ")");
    }
  }
  close(ep);
}

// ---------------------------------------------------------------------------------------------
// Publishers: PUBLISH with up to `window` commands in flight; every reply must be the number of
// subscribers.

struct Pub {
  int id = 0;
  redisContext* c = nullptr;
  double finished = 0;
  std::string error;
};

void PublishAll(const Options& o, Pub& p, const std::atomic<bool>& go);

void Publish(const Options& o, Pub& p, const std::atomic<bool>& go) {
  PublishAll(o, p, go);
  if (!p.error.empty()) g_publisher_failed.store(true);
}

void PublishAll(const Options& o, Pub& p, const std::atomic<bool>& go) {
  long long total = Share(o, p.id), sent = 0, acked = 0;
  std::string body;
  while (!go.load(std::memory_order_acquire)) {
  }
  while (acked < total) {
    while (sent < total && sent - acked < o.window) {
      body = Body(o, p.id, sent);
      redisAppendCommand(p.c, "PUBLISH %b %b", o.channel.data(), o.channel.size(), body.data(), body.size());
      ++sent;
    }
    int done = 0;
    while (!done) {
      if (redisBufferWrite(p.c, &done) != REDIS_OK) {
        p.error = std::string("write failed: ") + p.c->errstr;
        return;
      }
    }
    void* r = nullptr;
    if (redisGetReplyFromReader(p.c, &r) != REDIS_OK) {
      p.error = std::string("protocol error: ") + p.c->errstr;
      return;
    }
    if (r == nullptr) {
      if (redisBufferRead(p.c) != REDIS_OK) {
        p.error = std::string("read failed: ") + p.c->errstr;
        return;
      }
      continue;
    }
    do {
      auto* reply = static_cast<redisReply*>(r);
      if (reply->type != REDIS_REPLY_INTEGER || reply->integer != o.subscribers) {
        p.error = "PUBLISH replied " +
                  (reply->type == REDIS_REPLY_INTEGER ? std::to_string(reply->integer)
                                                      : "'" + std::string(reply->str ? reply->str : "?", reply->str ? reply->len : 1) + "'") +
                  ", expected " + std::to_string(o.subscribers) + " receivers";
        freeReplyObject(reply);
        return;
      }
      freeReplyObject(reply);
      ++acked;
      r = nullptr;
      if (redisGetReplyFromReader(p.c, &r) != REDIS_OK) {
        p.error = std::string("protocol error: ") + p.c->errstr;
        return;
      }
    } while (r != nullptr);
  }
  p.finished = Mono();
}

bool ParseInt(const char* s, long long lo, long long* out) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < lo || v > 1000000000000LL) return false;
  *out = v;
  return true;
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: pubsub_fanout PORT [-s SUBSCRIBERS] [-p PUBLISHERS] [-n MESSAGES] [-d PAYLOAD_BYTES]\n"
               "                          [-w IN_FLIGHT] [-c CHANNEL] [-t TIMEOUT_S] [-r READER_THREADS]\n");
  std::exit(3);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  long long v = 0;
  if (argc < 2 || !ParseInt(argv[1], 1, &v) || v > 65535) Usage();
  o.port = static_cast<int>(v);
  for (int i = 2; i < argc; i += 2) {
    std::string_view flag = argv[i];
    if (i + 1 >= argc) Usage();
    const char* arg = argv[i + 1];
    if (flag == "-c") {
      o.channel = arg;
      continue;
    }
    if (!ParseInt(arg, 1, &v)) Usage();
    if (flag == "-s" && v <= 10000) o.subscribers = static_cast<int>(v);
    else if (flag == "-p" && v <= 64) o.publishers = static_cast<int>(v);
    else if (flag == "-n") o.messages = v;
    else if (flag == "-d" && v <= 1000000) o.payload = static_cast<int>(v);
    else if (flag == "-w" && v <= 100000) o.window = static_cast<int>(v);
    else if (flag == "-t" && v <= 86400) o.timeout_s = static_cast<int>(v);
    else if (flag == "-r" && v <= 64) o.readers = static_cast<int>(v);
    else Usage();
  }
  // The largest body must fit in the payload size.
  std::string widest = std::to_string(o.publishers - 1) + ":" + std::to_string(o.messages);
  o.readers = std::min(o.readers, o.subscribers);
  if (widest.size() > static_cast<size_t>(o.payload)) {
    std::fprintf(stderr, "pubsub_fanout: -d %d is too small for bodies like '%s'\n", o.payload, widest.c_str());
    std::exit(3);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);

  std::vector<Sub> subs(o.subscribers);
  for (int i = 0; i < o.subscribers; ++i) {
    Sub& s = subs[i];
    s.o = &o;
    s.index = i;
    s.c = Connect(o.port);
    s.next.assign(o.publishers, 0);
    s.buf.resize(std::max<size_t>(256 * 1024, 4 * (static_cast<size_t>(o.payload) + o.channel.size() + 64)));
    auto* r = static_cast<redisReply*>(redisCommand(s.c, "SUBSCRIBE %b", o.channel.data(), o.channel.size()));
    if (r == nullptr) Fail(std::string("SUBSCRIBE failed: ") + s.c->errstr);
    bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
              std::string_view(r->element[0]->str, r->element[0]->len) == "subscribe";
    freeReplyObject(r);
    if (!ok) Fail("SUBSCRIBE did not reply [subscribe, channel, count]");
    if (s.c->reader->pos != s.c->reader->len) Fail("unexpected bytes after the SUBSCRIBE reply");
    // From now on: raw non-blocking reads.
    int fl = fcntl(s.c->fd, F_GETFL);
    if (fl < 0 || fcntl(s.c->fd, F_SETFL, fl | O_NONBLOCK) != 0) Fail(std::string("fcntl: ") + std::strerror(errno));
  }

  // All subscriptions must be registered before the first PUBLISH.
  redisContext* ctl = Connect(o.port);
  double until = Mono() + 10;
  for (;;) {
    auto* r = static_cast<redisReply*>(redisCommand(ctl, "PUBSUB NUMSUB %b", o.channel.data(), o.channel.size()));
    if (r == nullptr) Fail(std::string("PUBSUB NUMSUB failed: ") + ctl->errstr);
    long long n = -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_INTEGER) {
      n = r->element[1]->integer;
    }
    freeReplyObject(r);
    if (n == o.subscribers) break;
    if (n > o.subscribers) Fail("PUBSUB NUMSUB shows " + std::to_string(n) + " subscribers, more than ours");
    if (Mono() > until) Fail("PUBSUB NUMSUB shows " + std::to_string(n) + " subscribers after 10 s");
    usleep(2000);
  }
  redisFree(ctl);

  std::vector<Pub> pubs(o.publishers);
  for (int i = 0; i < o.publishers; ++i) {
    pubs[i].id = i;
    pubs[i].c = Connect(o.port);
  }
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (Pub& p : pubs) threads.emplace_back([&o, &p, &go] { Publish(o, p, go); });

  double cpu0 = CpuSeconds();
  double t0 = Mono();
  go.store(true, std::memory_order_release);
  std::vector<double> lasts(o.readers);
  std::vector<std::thread> readers;
  for (int r = 1; r < o.readers; ++r) {
    readers.emplace_back([&, r] { ReadSubscribers(subs, r, o.readers, t0 + o.timeout_s, &lasts[r]); });
  }
  ReadSubscribers(subs, 0, o.readers, t0 + o.timeout_s, &lasts[0]);
  for (std::thread& t : readers) t.join();
  double t_end = *std::max_element(lasts.begin(), lasts.end());
  double cpu1 = CpuSeconds();
  for (std::thread& t : threads) t.join();
  double pub_end = t0;
  for (const Pub& p : pubs) {
    if (!p.error.empty()) Fail("publisher " + std::to_string(p.id) + ": " + p.error);
    pub_end = std::max(pub_end, p.finished);
  }
  for (Sub& s : subs) redisFree(s.c);
  for (Pub& p : pubs) redisFree(p.c);

  double secs = t_end - t0;
  double deliveries = static_cast<double>(o.messages) * o.subscribers;
  std::printf("%.6f %.0f %.3f %.6f\n", secs, secs > 0 ? deliveries / secs : 0.0, cpu1 - cpu0, pub_end - t0);
  return 0;
}
