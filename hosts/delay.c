// Delays (and drops some of) the packets iptables queues to NFQUEUE, for hosts/netns.sh's `slow`: this kernel has
// no netem qdisc. Every packet is held DELAY_MS, in arrival order, then let through; LOSS_PERCENT of them are
// dropped at once instead.
//   delay QUEUE_NUMBER DELAY_MS LOSS_PERCENT
// Build: cc -O2 -o delay hosts/delay.c -lnetfilter_queue   (Debian: libnetfilter-queue-dev)
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_HELD (1 << 20)

static uint32_t held_id[MAX_HELD];
static int64_t held_due[MAX_HELD];
static size_t head, count;
static int64_t delay_ns;
static double loss;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int on_packet(struct nfq_q_handle *queue, struct nfgenmsg *message, struct nfq_data *data, void *context) {
    (void)message; (void)context;
    struct nfqnl_msg_packet_hdr *header = nfq_get_msg_packet_hdr(data);
    if (!header) return 0;
    uint32_t id = ntohl(header->packet_id);
    if (drand48() * 100.0 < loss) return nfq_set_verdict(queue, id, NF_DROP, 0, NULL);
    if (count == MAX_HELD) return nfq_set_verdict(queue, id, NF_ACCEPT, 0, NULL);
    size_t tail = (head + count) % MAX_HELD;
    held_id[tail] = id;
    held_due[tail] = now_ns() + delay_ns;
    count++;
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: delay QUEUE_NUMBER DELAY_MS LOSS_PERCENT\n");
        return 2;
    }
    int number = atoi(argv[1]);
    delay_ns = (int64_t)(atof(argv[2]) * 1000000.0);
    loss = atof(argv[3]);
    srand48(now_ns());

    struct nfq_handle *handle = nfq_open();
    if (!handle) { perror("nfq_open"); return 1; }
    struct nfq_q_handle *queue = nfq_create_queue(handle, number, &on_packet, NULL);
    if (!queue) { perror("nfq_create_queue"); return 1; }
    if (nfq_set_mode(queue, NFQNL_COPY_META, 0) < 0) { perror("nfq_set_mode"); return 1; }
    nfq_set_queue_maxlen(queue, MAX_HELD);
    int fd = nfq_fd(handle);
    int buffer_size = 64 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof buffer_size);

    char buffer[65536];
    for (;;) {
        int timeout_ms = -1;
        if (count > 0) {
            int64_t wait = held_due[head] - now_ns();
            timeout_ms = wait <= 0 ? 0 : (int)(wait / 1000000) + 1;
        }
        struct pollfd ready = { .fd = fd, .events = POLLIN };
        if (poll(&ready, 1, timeout_ms) > 0) {
            ssize_t length = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
            if (length > 0) nfq_handle_packet(handle, buffer, (int)length);
            else if (length < 0 && errno == ENOBUFS) fprintf(stderr, "delay: queue overrun, packets lost\n");
        }
        int64_t now = now_ns();
        while (count > 0 && held_due[head] <= now) {
            nfq_set_verdict(queue, held_id[head], NF_ACCEPT, 0, NULL);
            head = (head + 1) % MAX_HELD;
            count--;
        }
    }
}
