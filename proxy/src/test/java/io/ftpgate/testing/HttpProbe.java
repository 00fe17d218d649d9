package io.ftpgate.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Plain HTTP requests to the gateway's metrics endpoint, as a load balancer's check would make them. */
public final class HttpProbe {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    /** Status and body of one answer. */
    public record Answer(int status, String body) {}

    private HttpProbe() {}

    public static Answer get(InetSocketAddress endpoint, String path) throws IOException, InterruptedException {
        return send(endpoint, path, "GET");
    }

    public static Answer post(InetSocketAddress endpoint, String path) throws IOException, InterruptedException {
        return send(endpoint, path, "POST");
    }

    public static Answer send(InetSocketAddress endpoint, String path, String method)
            throws IOException, InterruptedException {
        URI uri = URI.create("http://" + endpoint.getAddress().getHostAddress() + ":" + endpoint.getPort() + path);
        HttpRequest r = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<String> a = CLIENT.send(r, HttpResponse.BodyHandlers.ofString());
        return new Answer(a.statusCode(), a.body());
    }
}
